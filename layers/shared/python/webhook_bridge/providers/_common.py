"""Small helpers shared by the provider mappings: time, names, validation, paths."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webhook_bridge.providers.exceptions import MappingError

# 9999-12-31T23:59:59Z: beyond it an epoch value cannot become a datetime, so reject it as input.
MAX_EPOCH = 253_402_300_799
Epoch = Annotated[int, Field(ge=0, le=MAX_EPOCH)]


class Payload(BaseModel):
    """Base of the provider payload models: only the fields we read, strictly typed.

    ``strict`` keeps JSON types honest (no "12" for 12, no true for 1); ``extra="ignore"``
    keeps us working when a provider adds fields.
    """

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, *, source: str, event_type: str | None, prefix: str = "") -> M:
    """Validate ``data`` as ``model``; any shape problem becomes a ``MappingError``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise MappingError.from_validation(source, event_type, exc, prefix) from None


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def utc_or_none(epoch: int | None) -> datetime | None:
    return None if epoch is None else utc(epoch)


def iso(moment: datetime) -> str:
    """JSON-native timestamp for track properties: survives the SQS trip unchanged."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """``"Zoë  Ñúñez de la Vega"`` → ``("Zoë", "Ñúñez de la Vega")``.

    Providers give one free-text name; vendors want first/last. The first word is the
    first name and the rest the last name: wrong for some cultures, but predictable.
    """
    words = (name or "").split()
    if not words:
        return None, None
    return words[0], " ".join(words[1:]) or None


def get_path(data: Any, path: str) -> Any:
    """``get_path(obj, "items.data.0.price.nickname")``; ``None`` when any step is missing."""
    current = data
    for step in path.split("."):
        if isinstance(current, dict):
            current = current.get(step)
        elif isinstance(current, list) and step.isascii() and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current
