"""Each function's environment in the local stack, and where every value comes from.

Precedence, lowest first:
1. a few variables of the developer's process that programs need (PATH, HOME, locale,
   CA bundles, proxies); never their AWS settings or random shell variables;
2. the template's Environment.Variables (Globals merged, intrinsics resolved), minus
   ``SECRET_ID``: locally, secrets come from the environment;
3. the emulated AWS (endpoint, region, dummy credentials), and no X-Ray;
4. the configuration names of the README (webhook secrets, vendor credentials and
   base URLs): the developer's values, or the dev defaults, or the vendor sandbox for
   every vendor without credentials; and ``ENABLED_VENDORS``, which the template derives
   from its credential parameters, follows that local decision (live + sandboxed);
5. explicit overrides (``Stack(env_overrides=...)``, ``--env``);
6. what Lambda itself sets (function name, memory, handler…), which cannot be overridden.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from devstack.aws import ACCESS_KEY_ID, SECRET_ACCESS_KEY, store_secret
from devstack.sandbox import SandboxCredentials
from devstack.support.signing import TEST_SECRETS
from devstack.template import FunctionSpec
from webhook_bridge.vendors.catalog import VendorSpec, specs

# Documented test values: `make dev` works without any configuration.
DEV_WEBHOOK_SECRETS = {f"{provider.upper()}_WEBHOOK_SECRET": secret for provider, secret in TEST_SECRETS.items()}
# Read by devstack or needed for correctness locally: always win over the template.
FORCED = {"POWERTOOLS_TRACE_DISABLED": "true"}  # no X-Ray daemon here
# A developer may set these from the shell without editing the template: log levels, and
# the Stripe API key (with its root and the identity waits) that resolves unknown emails.
PASSTHROUGH = (
    "LOG_LEVEL",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_DEV",
    "POWERTOOLS_LOGGER_LOG_EVENT",
    "STRIPE_API_KEY",
    "STRIPE_API_BASE_URL",
    "IDENTITY_WAIT_BASE_SECONDS",
    "IDENTITY_WAIT_WINDOW_SECONDS",
)
_PROCESS_KEEP = {
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TMPDIR", "TEMP", "TMP",
    "SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "VIRTUAL_ENV",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}  # fmt: skip
_PROCESS_KEEP_PREFIXES = ("LC_", "PYTHON", "COVERAGE_")
_LOCAL_HOSTS = "127.0.0.1,localhost"


@dataclass(frozen=True)
class Configuration:
    """The configuration names every function gets, and how they were decided."""

    values: Mapping[str, str]
    live_vendors: tuple[VendorSpec, ...]
    sandboxed_vendors: tuple[VendorSpec, ...]
    disabled_vendors: tuple[VendorSpec, ...]  # no credentials and no sandbox
    secrets_from_environment: frozenset[str]
    warnings: tuple[str, ...] = ()

    @property
    def enabled_vendors(self) -> tuple[VendorSpec, ...]:
        return tuple(v for v in specs() if v in self.live_vendors or v in self.sandboxed_vendors)


def vendors_without_credentials(source: Mapping[str, str]) -> list[VendorSpec]:
    return [vendor for vendor in specs() if not all(source.get(name) for name in vendor.secret_keys)]


def resolve_configuration(source: Mapping[str, str], sandbox_env: Mapping[str, str] | None) -> Configuration:
    """``source``: the developer's configuration; ``sandbox_env``: the sandbox's URLs and credentials."""
    values: dict[str, str] = {}
    warnings: list[str] = []
    for name, default in DEV_WEBHOOK_SECRETS.items():
        values[name] = source.get(name) or default
    live: list[VendorSpec] = []
    sandboxed: list[VendorSpec] = []
    disabled: list[VendorSpec] = []
    for vendor in specs():
        present = [name for name in vendor.secret_keys if source.get(name)]
        own_urls = [name for name in vendor.base_urls if source.get(name)]
        if len(present) == len(vendor.secret_keys) or own_urls:
            # A base URL of the developer's own means "deliver there", even without credentials:
            # any server that speaks the vendor's API gets the calls, signed with test credentials.
            live.append(vendor)
            if len(present) < len(vendor.secret_keys):
                values.update({k: v for k, v in SandboxCredentials().as_env().items() if k in vendor.secret_keys})
                warnings.append(
                    f"{vendor.display_name}: {', '.join(own_urls)} set without credentials; using test credentials"
                )
            values.update({name: source[name] for name in vendor.configuration_names if source.get(name)})
            continue
        if present:
            missing = sorted(set(vendor.secret_keys) - set(present))
            warnings.append(f"{vendor.display_name}: {', '.join(missing)} not set; not using the partial credentials")
        if sandbox_env is None:
            disabled.append(vendor)
            continue
        sandboxed.append(vendor)
        values.update({name: value for name, value in sandbox_env.items() if name.startswith(vendor.env_prefix + "_")})
    return Configuration(
        values=values,
        live_vendors=tuple(live),
        sandboxed_vendors=tuple(sandboxed),
        disabled_vendors=tuple(disabled),
        secrets_from_environment=frozenset(name for name in DEV_WEBHOOK_SECRETS if source.get(name)),
        warnings=tuple(warnings),
    )


def process_base(environ: Mapping[str, str]) -> dict[str, str]:
    """The few variables of the developer's process a Lambda-like process still needs."""
    base = {k: v for k, v in environ.items() if k in _PROCESS_KEEP or k.startswith(_PROCESS_KEEP_PREFIXES)}
    # Local endpoints must never go through a proxy configured for the outside world.
    for name in ("NO_PROXY", "no_proxy"):
        base[name] = ",".join(p for p in (base.get(name), _LOCAL_HOSTS) if p)
    return base


def aws_environment(endpoint: str | None, region: str) -> dict[str, str]:
    """boto3 honours AWS_ENDPOINT_URL (none: moto in the process); empty config files keep the
    developer's profile out."""
    return {
        **({"AWS_ENDPOINT_URL": endpoint} if endpoint else {}),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def function_environment(
    spec: FunctionSpec,
    *,
    template_env: Mapping[str, str],
    configuration: Configuration,
    endpoint: str | None,
    region: str,
    process_env: Mapping[str, str],
    use_process_env: bool,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    env = process_base(process_env)
    env.update(template_env)
    env.pop("SECRET_ID", None)
    env.update(FORCED)
    env.update(aws_environment(endpoint, region))
    env.update(configuration.values)
    if "ENABLED_VENDORS" in env:
        env["ENABLED_VENDORS"] = ",".join(v.name for v in configuration.enabled_vendors)
    if use_process_env:
        env.update({name: process_env[name] for name in PASSTHROUGH if process_env.get(name)})
    env.update(overrides or {})
    # What Lambda itself sets for every function.
    env.update(
        AWS_LAMBDA_FUNCTION_NAME=spec.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(spec.memory_mb),
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/{spec.name}",
        AWS_LAMBDA_LOG_STREAM_NAME="local",
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        LAMBDA_TASK_ROOT=str(spec.code_dir),
        _HANDLER=spec.handler,
        TZ="UTC",
    )
    return env


def store_secrets(env: dict[str, str], secret_id: str, endpoint: str | None, region: str) -> None:
    """Move the secrets of ``env`` into (emulated) Secrets Manager, behind ``SECRET_ID``, as on AWS.

    The function's own secret (the first ``secret_id`` lists) keeps its generated name; any shared
    secret after it (a delivery function's Stripe API key) joins the own one here."""
    # What the template keeps in Secrets Manager: the webhook secrets and every vendor's credentials.
    names = (*DEV_WEBHOOK_SECRETS, *(name for vendor in specs() for name in vendor.secret_keys))
    values = {name: env.pop(name) for name in names if name in env}
    name = secret_id.split(",")[0].rsplit(":", 1)[-1]
    env["SECRET_ID"] = store_secret(endpoint, region, name, values)


def mask(value: str) -> str:
    """Enough of a secret to recognise it, not to use it: ``whsec_…f00d``."""
    prefix = value.split("_", 1)[0] + "_" if "_" in value[:8] else ""
    if len(value) < 16:
        return prefix + "…"
    return f"{prefix}…{value[-4:]}"
