"""Provider timestamps (unix epochs) as the datetimes and ISO texts that actions carry."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def utc_or_none(epoch: int | None) -> datetime | None:
    return None if epoch is None else utc(epoch)


def iso(moment: datetime) -> str:
    """JSON-native timestamp for track properties: survives the SQS trip unchanged."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
