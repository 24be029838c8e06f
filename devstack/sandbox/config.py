"""Credentials the sandbox accepts, and the environment a bridge process needs to use them."""

from __future__ import annotations

from dataclasses import dataclass


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
        """The credential variables, named as in the README's configuration table."""
        return {
            "CONVERTLOOP_APP_ID": self.convertloop_app_id,
            "CONVERTLOOP_API_KEY": self.convertloop_api_key,
            "LOOPS_API_KEY": self.loops_api_key,
            "CUSTOMERIO_SITE_ID": self.customerio_site_id,
            "CUSTOMERIO_API_KEY": self.customerio_api_key,
            "SEGMETRICS_ACCOUNT_ID": self.segmetrics_account_id,
            "SEGMETRICS_INTEGRATION_ID": self.segmetrics_integration_id,
            "SEGMETRICS_API_KEY": self.segmetrics_api_key,
        }
