"""Fn::ForEach expansion: the resources CloudFormation makes from a loop, and the loops it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.language_extensions import ForEachError, expand
from devstack.template import TemplateError, load_template

QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-${Id}Queue"}}}


def _resources(resources: dict[str, Any], mappings: dict[str, Any] | None = None) -> dict[str, Any]:
    document = {"Resources": resources, **({"Mappings": mappings} if mappings else {})}
    return expand(document)["Resources"]


def test_one_copy_per_item_with_the_identifier_replaced_in_keys_and_sub_strings() -> None:
    resources = _resources({"Fn::ForEach::Queues": ["Id", ["Loops", "SegMetrics"], {"${Id}Queue": QUEUE}]})
    assert resources == {
        "LoopsQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-LoopsQueue"}},
        },
        "SegMetricsQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-SegMetricsQueue"}},
        },
    }


def test_ref_to_the_identifier_is_the_item_and_a_sub_left_without_variables_is_its_string() -> None:
    fragment = {
        "${Id}Function": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Environment": {
                    "Variables": {"VENDOR": {"Ref": "Id"}, "QUEUE_URL": {"Ref": {"Fn::Sub": "${Id}Queue"}}}
                },
                "Role": {"Fn::GetAtt": [{"Fn::Sub": "${Id}Role"}, "Arn"]},
                "Description": "${Id} stays: CloudFormation replaces identifiers in keys and Fn::Sub only",
            },
        }
    }
    (function,) = _resources({"Fn::ForEach::Functions": ["Id", ["Loops"], fragment]}).values()
    assert function["Properties"] == {
        "Environment": {"Variables": {"VENDOR": "Loops", "QUEUE_URL": {"Ref": "LoopsQueue"}}},
        "Role": {"Fn::GetAtt": ["LoopsRole", "Arn"]},
        "Description": "${Id} stays: CloudFormation replaces identifiers in keys and Fn::Sub only",
    }


@pytest.mark.parametrize(
    ("value", "expanded"),
    [
        # A variable that became a plain string is written into the string...
        ({"Fn::Sub": ["${Id}-${Suffix}", {"Suffix": {"Fn::Sub": "${Id}x"}}]}, "A-Ax"),
        # ...one known only at deployment is kept.
        (
            {"Fn::Sub": ["${AWS::StackName}-${Id}-${Arn}", {"Arn": {"Ref": "Topic"}}]},
            {"Fn::Sub": ["${AWS::StackName}-A-${Arn}", {"Arn": {"Ref": "Topic"}}]},
        ),
    ],
)
def test_sub_variables(value: dict[str, Any], expanded: Any) -> None:
    outputs = expand({"Outputs": {"Fn::ForEach::O": ["Id", ["A"], {"${Id}Out": {"Value": value}}]}})["Outputs"]
    assert outputs == {"AOut": {"Value": expanded}}


def test_a_mapping_lookup_on_the_identifier_is_read_in_each_copy() -> None:
    document = {
        "Mappings": {"Vendors": {"Loops": {"Name": "loops"}, "CustomerIo": {"Name": "customerio"}}},
        "Resources": {
            "Fn::ForEach::V": [
                "Vendor",
                ["Loops", "CustomerIo"],
                {
                    "${Vendor}Log": {
                        "Properties": {
                            "Name": {"Fn::FindInMap": ["Vendors", {"Ref": "Vendor"}, "Name"]},
                            "Group": {
                                "Fn::Sub": ["/x/${N}", {"N": {"Fn::FindInMap": ["Vendors", {"Ref": "Vendor"}, "Name"]}}]
                            },
                            "Region": {"Fn::FindInMap": ["Regions", {"Ref": "Region"}, "Url"]},
                        }
                    }
                },
            ]
        },
    }
    resources = expand(document)["Resources"]
    assert resources["LoopsLog"]["Properties"] == {
        "Name": "loops",
        "Group": "/x/loops",
        "Region": {"Fn::FindInMap": ["Regions", {"Ref": "Region"}, "Url"]},  # a parameter: CloudFormation's
    }
    assert resources["CustomerIoLog"]["Properties"]["Group"] == "/x/customerio"


def test_loops_beside_plain_resources_and_the_input_left_unchanged() -> None:
    document = {"Resources": {"Table": {"Type": "T"}, "Fn::ForEach::Q": ["Id", ["A"], {"${Id}Queue": QUEUE}]}}
    before = repr(document)
    assert list(expand(document)["Resources"]) == ["Table", "AQueue"]
    assert repr(document) == before


@pytest.mark.parametrize(
    ("resources", "problem"),
    [
        ({"AQueue": QUEUE, "Fn::ForEach::Q": ["Id", ["A"], {"${Id}Queue": QUEUE}]}, "declared already"),
        ({"Fn::ForEach::Q": ["Id", ["A", "B"], {"Queue": QUEUE}]}, "twice"),
        ({"Fn::ForEach::Q": ["Id", ["A"]]}, "Identifier, Collection, Fragment"),
        ({"Fn::ForEach::Q": ["Id", {"Ref": "VendorList"}, {"${Id}Queue": QUEUE}]}, "list of values"),
        ({"Fn::ForEach::Q": ["Id", {"Fn::FindInMap": ["M", "A", "B"]}, {"${Id}Queue": QUEUE}]}, "list of values"),
    ],
)
def test_refused_loops_say_why(resources: dict[str, Any], problem: str) -> None:
    with pytest.raises(ForEachError, match=problem):
        _resources(resources)


def test_the_local_stack_reads_a_template_through_the_expansion(tmp_path: Any) -> None:
    (tmp_path / "functions" / "worker").mkdir(parents=True)
    (tmp_path / "template.yaml").write_text(
        """
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Resources:
  Fn::ForEach::Workers:
    - Id
    - [Fast, Slow]
    - ${Id}Queue:
        Type: AWS::SQS::Queue
      ${Id}Function:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: functions/worker
          Handler: app.handler
          Runtime: python3.12
          Events:
            Queue:
              Type: SQS
              Properties:
                Queue: !GetAtt [!Sub "${Id}Queue", Arn]
""",
        encoding="utf-8",
    )
    template = load_template(tmp_path / "template.yaml")
    assert set(template.queues) == {"FastQueue", "SlowQueue"}
    assert {(s.function, s.queue) for s in template.event_sources} == {
        ("FastFunction", "FastQueue"),
        ("SlowFunction", "SlowQueue"),
    }
    (tmp_path / "template.yaml").write_text("Resources:\n  Fn::ForEach::Broken: [Id, [A]]\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="Fn::ForEach::Broken"):
        load_template(tmp_path / "template.yaml")
