"""cfn-lint finds nothing, and samconfig.toml deploys the way docs/operations.md says."""

from __future__ import annotations

import tomllib

from cfnlint.api import lint_file

from tests.template import cfn


def test_cfn_lint_reports_nothing() -> None:
    findings = lint_file(cfn.TEMPLATE_PATH)
    assert [str(f) for f in findings] == []


def test_samconfig_defaults_for_a_guided_deploy() -> None:
    config = tomllib.loads(cfn.SAMCONFIG_PATH.read_text())["default"]
    assert config["global"]["parameters"]["stack_name"] == "webhook-bridge"
    deploy = config["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["confirm_changeset"] is True
    assert deploy["resolve_s3"] is True
    build = config["build"]["parameters"]
    assert build["cached"] is True and build["parallel"] is True
    # The region is the user's choice, and secrets never live in this file.
    for section in config.values():
        parameters = section.get("parameters", {})
        assert "region" not in parameters
        overrides = str(parameters.get("parameter_overrides", ""))
        assert not any(name in overrides for name in cfn.SECRET_PARAMETERS)
