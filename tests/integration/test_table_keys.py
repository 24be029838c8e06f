"""The keys the code writes are the keys the IAM roles allow (dynamodb:LeadingKeys in template.yaml).

moto does not enforce IAM: this runs every ready event through the real handlers and checks
each key left in the tables against the role of the function that owns that prefix.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from devstack.support.handlers import forget_cold_start
from tests.integration.conftest import Bridge
from tests.integration.test_events import EVENTS, load, run_in_order
from tests.template import cfn


def leading_keys() -> dict[str, dict[str, set[str]]]:
    """Function logical id -> table logical id -> the key patterns its role allows."""
    allowed: dict[str, dict[str, set[str]]] = {}
    for function in cfn.FUNCTIONS:
        role = cfn.props(function)["Role"]["Fn::GetAtt"][0]
        for policy in cfn.props(role)["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
                if "dynamodb:LeadingKeys" in condition:
                    (table,) = cfn.referenced(statement["Resource"])
                    allowed.setdefault(function, {})[table] = set(condition["dynamodb:LeadingKeys"])
    return allowed


def keys(bridge: Bridge, table: str, attribute: str) -> set[str]:
    items: list[dict[str, Any]] = bridge.aws.dynamodb.scan(TableName=table)["Items"]
    return {item[attribute]["S"] for item in items}


def test_every_key_written_is_allowed_to_the_function_that_writes_it(bridge: Bridge, vendors, monkeypatch):
    from tests.conftest import IDEMPOTENCY_TABLE, STATE_TABLE

    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_test_webhook_bridge")
    monkeypatch.setenv("TYPEFORM_WEBHOOK_SECRET", "typeform_test_webhook_bridge")
    monkeypatch.setenv("STRIPE_SIGNATURE_TOLERANCE_SECONDS", "0")
    forget_cold_start()
    stripe = sorted((EVENTS / "stripe" / "2025-09-30.clover").glob("*.json"), key=lambda p: load(p)[1]["created"])
    run_in_order(bridge, vendors, stripe, "stripe")
    run_in_order(bridge, vendors, sorted((EVENTS / "typeform").glob("*.json")), "typeform")

    allowed = leading_keys()
    writers = {"receiver#stripe#": "StripeWebhookFunction", "receiver#typeform#": "TypeformWebhookFunction"}
    writers |= {f"delivery#{name}#": f"{vendor}DeliveryFunction" for vendor, name in cfn.VENDORS.items()}
    written = keys(bridge, IDEMPOTENCY_TABLE, "id")
    assert {prefix for prefix in writers if any(key.startswith(prefix) for key in written)} == set(writers)
    for key in written:
        function = next(writers[prefix] for prefix in writers if key.startswith(prefix))
        assert any(fnmatchcase(key, pattern) for pattern in allowed[function]["IdempotencyTable"]), key

    state_patterns = set().union(*(tables.get("StateTable", set()) for tables in allowed.values()))
    state_keys = keys(bridge, STATE_TABLE, "pk")
    assert {key.split("#")[0] for key in state_keys} >= {"identity", "order"}
    for key in state_keys:
        assert any(fnmatchcase(key, pattern) for pattern in state_patterns), key
