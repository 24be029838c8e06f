"""Credentials the sandbox accepts, and the environment a bridge process needs to use them."""

from __future__ import annotations

from dataclasses import dataclass

from webhook_bridge.vendors.catalog import specs


@dataclass(frozen=True)
class SandboxCredentials:
    """Fixed, documented sandbox values; nothing here is a real secret.

    The defaults are stable so that a person can paste them into a shell or a `.env`
    file once and keep using them across restarts of `make dev`.
    """

    convertloop_app_id: str = "sandbox-app"
    convertloop_api_key: str = "sandbox-convertloop-key"
    loops_api_key: str = "sandbox-loops-key"
    customerio_site_id: str = "sandbox-site"
    customerio_api_key: str = "sandbox-customerio-key"
    segmetrics_account_id: str = "sandbox-account"
    segmetrics_integration_id: str = "sandbox-integration"
    segmetrics_api_key: str = "sandbox-segmetrics-key"

    def as_env(self) -> dict[str, str]:
        """The credential variables, named as each vendor's spec names its secret keys."""
        return {name: getattr(self, name.lower()) for spec in specs() for name in spec.secret_keys}
