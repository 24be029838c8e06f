"""Field types of vendor request models: what every vendor refuses, refused before sending."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StrictInt, StringConstraints

NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _check_email(value: str) -> str:
    # Deliberately loose: the vendors validate addresses themselves; we only refuse what
    # can never be an address, so the failure is immediate and never retried.
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in value):
        raise ValueError("is not an email address")
    return value


Email = Annotated[NonEmptyStr, AfterValidator(_check_email)]

# Amounts are integers in the currency's smallest unit; strict so 45.5, "4500" or True never pass.
Cents = StrictInt
