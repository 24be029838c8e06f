"""Attribution from provider fields: which Typeform hidden fields and Checkout Session
metadata keys fill ``Attribution`` (SegMetrics' ``utm_*``, ``referring_url``,
``optin_url`` and ``ip_address``).

Names are matched without regard to case. ``BRIDGE_MAPPING`` may add names or turn a
default one off (``attribution.fields``, see docs/mapping.md). A field consumed here is
not also a trait: it reaches every vendor once, under its attribution name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator

from webhook_bridge.actions import Attribution


def _attribution_field(name: str) -> str:
    if name not in Attribution.model_fields:
        raise ValueError(f"must be one of {', '.join(Attribution.model_fields)}")
    return name


# One of Attribution's fields, which are the list of them.
AttributionField = Annotated[str, AfterValidator(_attribution_field)]

# Provider field name → attribution field: each field's own name, and the usual aliases.
DEFAULT_SOURCES: Mapping[str, str] = {
    **{name: name for name in Attribution.model_fields},
    "referrer": "referring_url",
    "ip": "ip_address",
}


def _clean(field: str, value: Any) -> str | None:
    """The value as SegMetrics should hold it, or ``None`` when it is not one: blank text
    would overwrite a known value, and an IP address must parse as one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if field == "ip_address":
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            return None
    return text


def split_attribution(
    values: Mapping[str, Any], sources: Mapping[str, str | None]
) -> tuple[Attribution, dict[str, Any]]:
    """``values`` as attribution, and the values that are not attribution sources.

    When two names fill one field (``ip`` and ``ip_address``), the field's own name wins.
    """
    found: dict[str, str] = {}
    rest: dict[str, Any] = {}
    for name, value in values.items():
        field = sources.get(name.lower())
        if field is None:
            rest[name] = value
            continue
        text = _clean(field, value)
        if text is not None and (field not in found or name.lower() == field):
            found[field] = text
    return Attribution(**found), rest
