"""Base of every vendor request model: invalid input fails before any HTTP call.

Models raise :class:`RequestValidationError` (never pydantic's own error) so the
delivery layer sees one error tree, and the message lists fields and reasons but
never the offending values, which may be emails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from webhook_bridge.privacy import mask_text
from webhook_bridge.vendors.exceptions import RequestValidationError


def describe_validation_error(model_name: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        location = ".".join(str(part) for part in error["loc"]) or "request"
        reason = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{location}: {reason}")
    return mask_text(f"invalid {model_name}: " + "; ".join(problems))


class VendorRequest(BaseModel):
    """A request body, validated when built; ``to_wire()`` gives the JSON to send."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    vendor_name: ClassVar[str] = "vendor"

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            # ``from None``: pydantic's own message echoes the input values.
            reason = describe_validation_error(type(self).__name__, exc)
            raise RequestValidationError(type(self).vendor_name, reason) from None

    @classmethod
    def parse(cls, data: Self | Mapping[str, Any]) -> Self:
        """Accept a built model or a plain mapping (wire names or field names)."""
        if isinstance(data, cls):
            return data
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise RequestValidationError(cls.vendor_name, describe_validation_error(cls.__name__, exc)) from None

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def invalid(vendor: str, message: str) -> RequestValidationError:
    """For checks on plain method arguments (ids, keys) that have no model."""
    return RequestValidationError(vendor, mask_text(message))
