"""``make sam-local``: what ``sam local invoke`` and ``sam local start-api`` need, in Docker.

SAM runs each function in a Lambda container, passes it only the environment variables the
template declares, and can attach it to a named Docker network (not to the host's). So
``up`` starts, on one network, moto (SQS, DynamoDB, Secrets Manager) and the vendor sandbox;
creates the template's queues, tables and secrets in moto (read from template.yaml as
``make dev`` reads them, the secrets holding the sandbox's credentials); and writes the
``--env-vars`` file that points every declared variable at them. ``down`` removes it all.

    python -m devstack.sam_local build --architecture x86_64
    python -m devstack.sam_local up --architecture x86_64     # prints the sam commands to run
    python -m devstack.sam_local down
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from devstack.aws import AwsResources, client, create_resources
from devstack.environment import Configuration, function_environment, resolve_configuration
from devstack.sandbox import Sandbox, SandboxCredentials
from devstack.stack import DEV_PARAMETERS, find_template, wait_until
from devstack.support.events import sqs_batch
from devstack.template import DEFAULT_REGION, Template, load_template
from webhook_bridge.vendors.catalog import specs

DEFAULT_NAME = "webhook-bridge"
# moto's own image; MOTO_IMAGE overrides it (e.g. a locally built one where images cannot be pulled).
DEFAULT_MOTO_IMAGE = "motoserver/moto:5.2.1"
MOTO_PORT = 5000
SANDBOX_PORT = 4010
ARCHITECTURES = ("arm64", "x86_64")
VENDOR_KEYS = tuple(vendor.name for vendor in specs())  # as in ENABLED_VENDORS and VENDOR
LAMBDA_IMAGE = "public.ecr.aws/lambda/python:3.12-{architecture}"
LABEL = "webhook-bridge.sam-local"
READY_TIMEOUT_SECONDS = 60.0
DOCKER_TIMEOUT_SECONDS = 120.0
ENV_FILE = Path(".devstack") / "sam-local-env.json"
EVENTS_ENV_FILE = Path("events") / "env.json"  # the test secrets and settings the events in events/ need
ROOT = Path(__file__).resolve().parent.parent  # mounted into the sandbox's container to run devstack.sandbox
LAYER_PYTHON = ROOT / "layers" / "shared" / "python"


class DockerError(RuntimeError):
    """A docker command failed; the message carries its output."""


def docker(*args: str, timeout: float = DOCKER_TIMEOUT_SECONDS, check: bool = True) -> str:
    executable = shutil.which("docker")
    if executable is None:
        raise DockerError("the docker command is not installed")
    try:
        done = subprocess.run(  # noqa: S603 - arguments are ours
            [executable, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise DockerError(f"docker {args[0]} did not finish in {timeout:g}s") from error
    if check and done.returncode != 0:
        raise DockerError(f"docker {' '.join(args[:2])}: {(done.stderr or done.stdout).strip()}")
    return done.stdout.strip()


def docker_unavailable() -> str | None:
    """Why Docker cannot be used here, or None when it can."""
    try:
        docker("info", "--format", "{{.ServerVersion}}", timeout=20)
    except DockerError as error:
        return str(error)
    return None


def image_present(image: str) -> bool:
    return bool(docker("image", "ls", "--quiet", image, check=False))


def host_architecture() -> str:
    return "x86_64" if os.uname().machine in ("x86_64", "amd64") else "arm64"


# SAM expands template.yaml's Fn::ForEach loops itself only when asked (samconfig.toml asks too).
LANGUAGE_EXTENSIONS = "--language-extensions"


@dataclass(frozen=True)
class SamCli:
    """The ``sam`` command lines for this project; one place for the flags they all need."""

    executable: str = "sam"
    architecture: str = "x86_64"
    template: Path | None = None  # a built template; None: SAM's default, .aws-sam/build
    skip_pull_image: bool = False

    def build(self, build_dir: Path | None = None) -> tuple[list[str], dict[str, str]]:
        """The command, and what it adds to the environment: SAM hands the parameter to the
        template only, so the layer's Makefile reads the same architecture from ARCHITECTURE."""
        command = [
            self.executable,
            "build",
            LANGUAGE_EXTENSIONS,
            "--parameter-overrides",
            f"Architecture={self.architecture}",
        ]
        if build_dir is not None:
            command += ["--build-dir", str(build_dir), "--cache-dir", str(build_dir / "cache")]
        # With pyenv, SAM finds python3.12 only when a 3.12 is selected; without pyenv this is ignored.
        return command, {"ARCHITECTURE": self.architecture, "PYENV_VERSION": "3.12.1"}

    def invoke(self, stack: SamLocalStack, function: str, event: Path | str) -> list[str]:
        return [self.executable, "local", "invoke", function, *self._local_options(stack), "--event", str(event)]

    def start_api(self, stack: SamLocalStack, port: int) -> list[str]:
        return [self.executable, "local", "start-api", *self._local_options(stack), "--port", str(port)]

    def _local_options(self, stack: SamLocalStack) -> list[str]:
        # make dev's parameters too: the optional Stripe EventBridge consumer runs as well.
        parameters = {"Architecture": self.architecture, **DEV_PARAMETERS}
        options = [
            LANGUAGE_EXTENSIONS,
            "--parameter-overrides",
            *(f"{name}={value}" for name, value in parameters.items()),
        ]
        options += ["--docker-network", stack.name, "--env-vars", str(stack.env_file), "--region", stack.region]
        if self.template is not None:
            options += ["--template", str(self.template)]
        if self.skip_pull_image:
            options.append("--skip-pull-image")
        return options


def local_configuration(sandbox_url: str) -> Configuration:
    """``make dev``'s configuration with every vendor in the sandbox at ``sandbox_url``."""
    base_urls = {name: sandbox_url + path for name, path in Sandbox().base_paths().items()}
    return resolve_configuration({}, base_urls | SandboxCredentials().as_env())


def sam_env_vars(
    template: Template,
    resources: AwsResources,
    configuration: Configuration,
    overrides: Mapping[str, Mapping[str, str]],
) -> dict[str, dict[str, str]]:
    """SAM's ``--env-vars`` file: for each function, the variables its template declares, with the
    values ``make dev`` would give them (SAM drops any other variable). ``SECRET_ID`` stays: the
    function reads its credentials from the secret in moto, as on AWS."""
    physical = template.physical_resources(resources.physical())
    env_vars: dict[str, dict[str, str]] = {}
    for name, spec in template.functions.items():
        declared = template.environment(name, physical)
        local = function_environment(
            spec,
            template_env=declared,
            configuration=configuration,
            endpoint=resources.endpoint,
            region=resources.region,
            process_env={},
            use_process_env=False,
        )
        env_vars[name] = {key: local.get(key, value) for key, value in declared.items()} | dict(overrides.get(name, {}))
    return env_vars


@dataclass
class SamLocalStack:
    """moto and the vendor sandbox in containers on the Docker network ``name``:
    ``with SamLocalStack(name=...) as stack: ...`` removes them even when the block fails."""

    name: str = DEFAULT_NAME
    template_path: Path = field(default_factory=find_template)
    env_file: Path | None = None  # default: .devstack/sam-local-env.json beside the template
    image: str = field(default_factory=lambda: os.environ.get("MOTO_IMAGE", DEFAULT_MOTO_IMAGE))
    region: str = DEFAULT_REGION
    template: Template | None = None
    resources: AwsResources | None = None  # as seen from this machine
    host_moto_endpoint: str = ""
    host_sandbox_url: str = ""

    def __post_init__(self) -> None:
        self.env_file = self.env_file or self.template_path.parent / ENV_FILE
        self.moto_container, self.sandbox_container = f"{self.name}-moto", f"{self.name}-sandbox"
        # As a function on the network reaches them.
        self.moto_endpoint = f"http://{self.moto_container}:{MOTO_PORT}"
        self.sandbox_url = f"http://{self.sandbox_container}:{SANDBOX_PORT}"

    def start(self) -> SamLocalStack:
        self.stop()  # what an earlier run under this name left
        try:
            docker("network", "create", "--label", LABEL, self.name)
            self._run(self.moto_container, MOTO_PORT)
            self._run(
                self.sandbox_container,
                SANDBOX_PORT,
                "--volume", f"{ROOT}:/src:ro", "--workdir", "/src", "--env", "PYTHONDONTWRITEBYTECODE=1",
                # The sandbox reads each vendor's documented names and limits from its spec.
                "--env", f"PYTHONPATH=/src/{LAYER_PYTHON.relative_to(ROOT)}",
                "--entrypoint", "python3",
                # All of the container's interfaces; published on the host's 127.0.0.1 only.
                args=("-m", "devstack.sandbox", "--host", "0.0.0.0", "--port", str(SANDBOX_PORT)),  # noqa: S104
            )  # fmt: skip
            template = self.attach().template
            assert template is not None
            self._wait_ready(self.moto_container, lambda: self.aws_client("sqs").list_queues())
            self._wait_ready(
                self.sandbox_container,
                lambda: urllib.request.urlopen(f"{self.host_sandbox_url}/_sandbox/health", timeout=2).close(),  # noqa: S310
            )
            configuration = local_configuration(self.sandbox_url)
            self.resources = create_resources(template, self.host_moto_endpoint, secret_values=configuration.values)
            env_vars = sam_env_vars(
                template, self.resources.seen_from(self.moto_endpoint), configuration, self._events_env()
            )
            assert self.env_file is not None
            self.env_file.parent.mkdir(parents=True, exist_ok=True)
            self.env_file.write_text(json.dumps(env_vars, indent=2) + "\n", encoding="utf-8")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Remove every container on the network (SAM's too, if it left any), then the network."""
        try:
            attached = docker("ps", "--all", "--quiet", "--filter", f"network={self.name}", check=False).split()
            containers = {*attached, self.moto_container, self.sandbox_container}
            docker("rm", "--force", "--volumes", *sorted(containers), check=False)
            docker("network", "rm", self.name, check=False)
        except DockerError:  # no docker command, or it hung: nothing this process can remove
            return

    def __enter__(self) -> SamLocalStack:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def attach(self) -> SamLocalStack:
        """This object for the containers running under its name (``start``, or ``sqs-event`` later)."""
        self.host_moto_endpoint = f"http://{self._host_address(self.moto_container, MOTO_PORT)}"
        self.host_sandbox_url = f"http://{self._host_address(self.sandbox_container, SANDBOX_PORT)}"
        self.template = load_template(self.template_path, parameter_defaults=DEV_PARAMETERS, region=self.region)
        return self

    def aws_client(self, service: str) -> Any:
        return client(service, self.host_moto_endpoint, self.region)

    def delivery_queue(self, vendor: str) -> tuple[str, str, str]:
        """The vendor's delivery function, and the URL (from here) and ARN of the queue it reads."""
        assert self.template is not None
        source = self.template.delivery_source(vendor)
        sqs = self.aws_client("sqs")
        url = sqs.get_queue_url(QueueName=self.template.queues[source.queue].name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return source.function, url, arn

    def sandbox_requests(self, vendor: str) -> list[dict[str, Any]]:
        """What the vendor sandbox received for ``vendor``, oldest first."""
        url = f"{self.host_sandbox_url}/_sandbox/requests?vendor={vendor}"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own sandbox
            return list(json.load(response))

    # -- internals --------------------------------------------------------------------------

    def _run(self, container: str, port: int, *options: str, args: Sequence[str] = ()) -> None:
        docker(
            "run", "--detach", "--name", container, "--network", self.name, "--label", LABEL,
            "--publish", f"127.0.0.1::{port}", *options, self.image, *args,
        )  # fmt: skip

    @staticmethod
    def _host_address(container: str, port: int) -> str:
        """``127.0.0.1:<port Docker chose>``: several stacks can run side by side."""
        return docker("port", container, f"{port}/tcp").splitlines()[0]

    def _wait_ready(self, container: str, probe: Callable[[], object]) -> None:
        """Until ``probe`` (a request to the container from here) stops raising."""

        def ready() -> bool:
            if docker("inspect", "--format", "{{.State.Running}}", container, check=False) != "true":
                raise DockerError(f"{container} stopped: {_log_tail(container)}")
            try:
                probe()
            except Exception:  # not listening yet: refused, reset, or an error page
                return False
            return True

        if not wait_until(ready, READY_TIMEOUT_SECONDS, interval=0.25):
            raise DockerError(f"{container} did not answer within {READY_TIMEOUT_SECONDS:g}s: {_log_tail(container)}")

    def _events_env(self) -> dict[str, dict[str, str]]:
        path = self.template_path.parent / EVENTS_ENV_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _log_tail(container: str) -> str:
    return docker("logs", "--tail", "20", container, check=False)


# -- command line ---------------------------------------------------------------------------


def _usage(stack: SamLocalStack, sam: SamCli) -> str:
    root = stack.template_path.parent
    example = max((root / "events" / "stripe").glob("*/customer.created.json"), default=None)  # newest API
    env_file = stack.env_file.relative_to(root) if stack.env_file and stack.env_file.is_relative_to(root) else None
    shown = SamLocalStack(name=stack.name, template_path=stack.template_path, env_file=env_file, region=stack.region)
    event = example.relative_to(root) if example else Path("events/…")
    lines = [
        f"moto and the vendor sandbox are up on the Docker network {stack.name}:",
        f"  moto            {stack.host_moto_endpoint}  (functions: {stack.moto_endpoint})",
        f"  vendor sandbox  {stack.host_sandbox_url}/_sandbox/  (functions: {stack.sandbox_url})",
        f"  env file        {stack.env_file}",
        "",
        "  " + shlex.join(sam.invoke(shown, "StripeWebhookFunction", event)),
        "  .venv/bin/python -m devstack.sam_local sqs-event loops > .devstack/loops-sqs.json",
        "  " + shlex.join(sam.invoke(shown, "LoopsDeliveryFunction", ".devstack/loops-sqs.json")),
        "  " + shlex.join(sam.start_api(shown, 3000)),
        f"  AWS_ENDPOINT_URL={stack.host_moto_endpoint} .venv/bin/bridgectl dlq list",
        "",
        "Stop with: make sam-local-down",
    ]
    return "\n".join(lines)


def _print_sqs_event(stack: SamLocalStack, vendor: str) -> int:
    """Takes up to 10 messages off the vendor's queue, as Lambda would, and prints their SQS event."""
    function, url, arn = stack.delivery_queue(vendor)
    messages = (
        stack.aws_client("sqs")
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"])
        .get("Messages", [])
    )
    if not messages:
        print(f"no message waiting on the {vendor} queue", file=sys.stderr)
        return 1
    print(json.dumps(sqs_batch(messages, arn, stack.region), indent=2))
    print(f"{len(messages)} message(s) for {function}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.sam_local", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "up", "sqs-event", "down"))
    parser.add_argument("vendor", nargs="?", choices=VENDOR_KEYS, help="sqs-event: whose queue")
    parser.add_argument("--architecture", choices=ARCHITECTURES, default=host_architecture())
    parser.add_argument("--name", default=DEFAULT_NAME, help="Docker network, and prefix of the containers")
    parser.add_argument("--sam", default="sam", help="the SAM CLI executable")
    args = parser.parse_args(argv)
    sam = SamCli(
        executable=args.sam,
        architecture=args.architecture,
        skip_pull_image=args.command == "up" and image_present(LAMBDA_IMAGE.format(architecture=args.architecture)),
    )
    if args.command == "build":
        command, env = sam.build()
        return subprocess.run(command, env=os.environ | env, check=False).returncode  # noqa: S603 - the user's sam
    stack = SamLocalStack(name=args.name)
    if args.command == "down":
        stack.stop()
        return 0
    if args.command == "sqs-event":
        if args.vendor is None:
            parser.error("sqs-event needs a vendor")
        return _print_sqs_event(stack.attach(), args.vendor)
    reason = docker_unavailable()
    if reason:
        print(f"cannot start: {reason}", file=sys.stderr)
        return 1
    try:
        stack.start()
    except DockerError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    print(_usage(stack, sam))
    return 0


if __name__ == "__main__":
    sys.exit(main())
