"""How values look on the wire, vendor by vendor.

Kept in one place so a date never leaves in two formats for the same vendor.
Naive datetimes are read as UTC: every provider timestamp we map (Stripe, Typeform)
is UTC, and refusing them would turn a harmless omission into a dead letter.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2024-05-01T12:30:00Z`` (milliseconds only when present)."""
    moment = as_utc(value)
    timespec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def unix_seconds(value: datetime) -> int:
    """Whole seconds since the epoch (floor), the unit Customer.io expects for timestamps."""
    return (as_utc(value) - _EPOCH) // timedelta(seconds=1)


def unix_millis(value: datetime) -> int:
    return (as_utc(value) - _EPOCH) // timedelta(milliseconds=1)


def segmetrics_datetime(value: datetime) -> str:
    """SegMetrics' documented ``YYYY-MM-DD HH:MM:SS``, in UTC."""
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%S")


def jsonable(value: Any, *, datetime_format: Callable[[datetime], Any] = iso_utc) -> Any:
    """Free-form data (traits, metadata, custom fields) made JSON-safe.

    Datetimes use the vendor's format, tuples/sets become lists, non-finite floats
    become ``None`` (JSON has no NaN) and anything else unknown becomes its string.
    ``None`` stays: for some vendors it means "clear this field".
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return datetime_format(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v, datetime_format=datetime_format) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, datetime_format=datetime_format) for v in value]
    return str(value)


def _is_plain(item: Any) -> bool:
    return isinstance(item, str | int | float) and not isinstance(item, bool)


def flat_scalar(value: Any, *, datetime_format: Callable[[datetime], Any] = iso_utc) -> str | int | float | bool | None:
    """A value for fields that only hold scalars (Loops properties, CRM custom fields).

    Nothing the provider said is dropped: a list of plain values (a multiple-choice
    answer) becomes ``"a, b"``, anything more nested compact JSON text. ``None`` is
    returned as is, for the caller to drop or send.
    """
    data = jsonable(value, datetime_format=datetime_format)
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list) and all(_is_plain(item) for item in data):
        return ", ".join(str(item) for item in data)
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def scalar_traits(
    traits: Mapping[str, Any],
    *,
    reserved: Collection[str] = (),
    keep_none: bool = False,
    datetime_format: Callable[[datetime], str] = iso_utc,
) -> dict[str, Any]:
    """Traits for vendors whose attributes are scalars; keys the adapter owns are left out."""
    flattened = {
        key: flat_scalar(value, datetime_format=datetime_format) for key, value in traits.items() if key not in reserved
    }
    return flattened if keep_none else {key: value for key, value in flattened.items() if value is not None}
