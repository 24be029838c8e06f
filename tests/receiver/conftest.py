"""Receiver test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

SECRETS = {"STRIPE_WEBHOOK_SECRET": "whsec_property", "TYPEFORM_WEBHOOK_SECRET": "typeform_property"}


@pytest.fixture(scope="module")
def monkeypatch_secrets() -> Iterator[None]:
    """Module-scoped, as hypothesis runs many examples per test function."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SECRETS.items():
            patch.setenv(name, value)
        yield
