"""Reading provider payloads: strict models, their validation as a ``MappingError``, and paths into them."""

from __future__ import annotations

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
