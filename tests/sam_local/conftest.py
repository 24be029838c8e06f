"""`sam local` against real Lambda containers: a build for this machine, and moto and the
vendor sandbox on a Docker network of their own, created once and always removed.

Skipped, with the reason, where Docker, the SAM CLI or the images are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.sam_local import (
    DEFAULT_MOTO_IMAGE,
    LAMBDA_IMAGE,
    SamCli,
    SamLocalStack,
    docker_unavailable,
    host_architecture,
    image_present,
)

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_SECONDS = 600
INVOKE_TIMEOUT_SECONDS = 180
# The receivers' Timeout (15 s) includes their cold start, which a busy two-core machine
# running three Lambda containers at once can stretch; SAM would then stop them half-way.
LOCAL_FUNCTION_TIMEOUT_SECONDS = 60
# Invocations at once: each waits on Docker for much of its time, but every one costs about
# two seconds of CPU (SAM, then the function's cold start) on CI's two cores.
INVOKE_CONCURRENCY = 3


def sam_executable() -> str | None:
    local = ROOT / ".venv-sam" / "bin" / "sam"
    return os.environ.get("SAM_CLI") or (str(local) if local.is_file() else shutil.which("sam"))


def why_not_runnable(sam: str | None) -> str | None:
    reason = docker_unavailable()
    if reason:
        return reason
    if sam is None:
        return "the SAM CLI is not installed (make sam-install, or SAM_CLI=/path/to/sam)"
    moto_image = os.environ.get("MOTO_IMAGE", DEFAULT_MOTO_IMAGE)
    for image in (LAMBDA_IMAGE.format(architecture=host_architecture()), moto_image):
        if not image_present(image):
            return f"the image {image} is not on this machine (docker pull {image})"
    return None


def sam_environment() -> dict[str, str]:
    """Without the developer's AWS settings (SAM would hand them to the functions) or telemetry,
    and patient with containers that a busy machine starts slowly (SAM waits 20 s)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return env | {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "SAM_CLI_TELEMETRY": "0",
        "SAM_CLI_CONTAINER_CONNECTION_TIMEOUT": "90",
    }


@dataclass(frozen=True)
class SamLocal:
    """The stack and the sam command lines for it."""

    stack: SamLocalStack
    sam: SamCli
    workdir: Path

    def invoke(self, function: str, event: Path | dict[str, Any]) -> dict[str, Any]:
        """``sam local invoke``; the function's result (SAM prints it alone on stdout)."""
        if isinstance(event, dict):
            path = self.workdir / f"event-{uuid.uuid4().hex}.json"
            path.write_text(json.dumps(event), encoding="utf-8")
            event = path
        done = subprocess.run(
            self.sam.invoke(self.stack, function, event),
            capture_output=True,
            text=True,
            timeout=INVOKE_TIMEOUT_SECONDS,
            env=sam_environment(),
            cwd=ROOT,
            check=False,
        )
        assert done.returncode == 0 and done.stdout.strip(), (
            f"sam local invoke {function} {event}:\n{done.stderr[-3000:]}"
        )
        return dict(json.loads(done.stdout))

    def invoke_all(self, calls: Sequence[tuple[str, Path | dict[str, Any]]]) -> list[dict[str, Any]]:
        """``invoke`` for each (function, event), a few at a time; the results in order."""
        with ThreadPoolExecutor(max_workers=INVOKE_CONCURRENCY) as pool:
            return list(pool.map(lambda call: self.invoke(*call), calls))


@pytest.fixture(scope="session")
def sam_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamLocal]:
    executable = sam_executable()
    reason = why_not_runnable(executable)
    if reason:
        pytest.skip(f"sam local suite cannot run here: {reason}")
    assert executable is not None
    workdir = tmp_path_factory.mktemp("sam-local")
    sam = SamCli(executable=executable, architecture=host_architecture(), skip_pull_image=True)
    command, env = sam.build(workdir / "build")
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        env=sam_environment() | env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, f"sam build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    built = workdir / "build" / "template.yaml"
    document = yaml.safe_load(built.read_text(encoding="utf-8"))  # sam build writes plain YAML
    document["Globals"]["Function"]["Timeout"] = LOCAL_FUNCTION_TIMEOUT_SECONDS
    built.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    sam = SamCli(sam.executable, sam.architecture, template=built, skip_pull_image=True)
    name = f"wb-test-{uuid.uuid4().hex[:10]}"  # runs side by side never share containers
    with SamLocalStack(name=name, template_path=ROOT / "template.yaml", env_file=workdir / "env.json") as stack:
        yield SamLocal(stack=stack, sam=sam, workdir=workdir)
