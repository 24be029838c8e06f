"""Receiver test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

SECRETS = {"stripe": "whsec_property", "typeform": "typeform_property"}


@pytest.fixture(scope="module")
def monkeypatch_secrets() -> Iterator[None]:
    """Module-scoped, as hypothesis runs many examples per test function."""
    with pytest.MonkeyPatch.context() as patch:
        for provider, secret in SECRETS.items():
            patch.setenv(f"{provider.upper()}_WEBHOOK_SECRET", secret)
        yield
