"""Masking of personal data before anything reaches a log line or an error message."""

from __future__ import annotations

import re
from typing import Any

_NOT_ADDRESS = r"\s@\"'<>,;:()\[\]/?&=#"  # characters that end an address in free text
_EMAIL = re.compile(
    rf"([^{_NOT_ADDRESS}])[^{_NOT_ADDRESS}]*?(?:@|%40)([^{_NOT_ADDRESS}.%])[^{_NOT_ADDRESS}]*?(\.[^{_NOT_ADDRESS}.]+)(?![^{_NOT_ADDRESS}])"
)
_PERSONAL_KEYS = {
    "email",
    "first_name",
    "last_name",
    "firstname",
    "lastname",
    "name",
    "phone",
    "phone_number",
    "address",
}


def mask_email(email: str | None) -> str | None:
    """``jane.doe@example.com`` -> ``j***@e***.com``: enough to correlate, not to identify."""
    if not email:
        return email
    return mask_text(email)


def mask_text(text: str) -> str:
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}***{m.group(3)}", text)


def mask_data(value: Any) -> Any:
    """Mask a JSON-like structure: personal keys get ``***``, emails anywhere get masked."""
    if isinstance(value, dict):
        return {
            k: (
                "***"
                if isinstance(k, str) and k.lower() in _PERSONAL_KEYS and isinstance(v, str) and "@" not in v
                else mask_data(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [mask_data(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value
