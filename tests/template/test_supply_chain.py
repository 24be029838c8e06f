"""The layers install only hash-checked, pinned wheels; the X-Ray SDK is a layer of its own."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.template.cfn import ROOT

LAYER = ROOT / "layers" / "shared"
LOCKS = {"requirements.txt": "requirements.lock", "xray-requirements.txt": "xray-requirements.lock"}
_PIN = re.compile(r"^([A-Za-z0-9_.\[\]-]+)==(\S+)")


def pins(path: Path) -> dict[str, str]:
    """Name → version of every ``name==version`` line (extras dropped, names normalised)."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            found[re.sub(r"\[.*\]", "", match[1]).lower().replace("_", "-")] = match[2]
    return found


def locked(path: Path) -> dict[str, list[str]]:
    """Name → the hashes of every requirement of a lock (a requirement spans its continuation lines)."""
    entries: dict[str, list[str]] = {}
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := _PIN.match(line):
            current = match[1].lower()
            entries[current] = []
        elif current and line.strip().startswith("--hash=sha256:"):
            entries[current].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return entries


@pytest.mark.parametrize(("requirements", "lock"), LOCKS.items())
def test_every_direct_dependency_is_locked_at_its_pin_with_hashes(requirements: str, lock: str) -> None:
    direct, entries = pins(LAYER / requirements), locked(LAYER / lock)
    assert direct, requirements
    for name, version in direct.items():
        assert pins(LAYER / lock)[name] == version, name
    for name, hashes in entries.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name


def test_the_shared_layer_carries_no_xray_sdk() -> None:
    assert "aws-xray-sdk" not in locked(LAYER / "requirements.lock")
    assert "[" not in (LAYER / "requirements.txt").read_text(encoding="utf-8")  # no extra pulls it back in
    assert "aws-xray-sdk" in locked(LAYER / "xray-requirements.lock")


def test_sam_builds_each_layer_from_its_lock_requiring_hashes() -> None:
    makefile = (LAYER / "Makefile").read_text(encoding="utf-8")
    install = re.search(r"^INSTALL = (.*(?:\\\n.*)*)", makefile, re.M)
    assert install and "--require-hashes" in install[1] and "--only-binary=:all:" in install[1]
    for target, lock in (("build-SharedLayer", "requirements.lock"), ("build-XRaySdkLayer", "xray-requirements.lock")):
        recipe = makefile.split(f"{target}:", 1)[1].split("\n\n", 1)[0]
        assert f"$(INSTALL) -r {lock}" in recipe, target


def test_bridgectl_installed_alone_gets_the_layers_pins_and_boto3() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    files = project["tool"]["setuptools"]["dynamic"]["dependencies"]["file"]
    declared = {name for file in files for name in pins(ROOT / file)}
    assert "dependencies" in project["project"]["dynamic"]
    assert {"boto3", "aws-lambda-powertools", "httpx", "pydantic", "python-ulid"} <= declared
