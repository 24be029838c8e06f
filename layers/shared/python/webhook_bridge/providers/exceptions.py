"""The one exception a provider mapping raises for bad input.

Contract with the receiver: ``map_stripe_event`` and ``map_typeform_event`` raise
``MappingError`` (and only that) when the payload does not have the documented shape;
the receiver answers 400 and the provider should not retry. Any other exception
(e.g. a DynamoDB error from the state stores) is an infrastructure failure: the
receiver answers 5xx so the provider retries later.

Messages name the provider, the event type and the offending field locations, never
field values: payloads carry personal data and the message may reach a log line.
"""

from __future__ import annotations

from pydantic import ValidationError

from webhook_bridge.exceptions import BridgeError


class MappingError(BridgeError, ValueError):
    """The provider payload cannot be mapped: malformed or of an unexpected shape (→ 400)."""

    def __init__(self, source: str, event_type: str | None, problems: list[str]) -> None:
        self.source = source
        self.event_type = event_type
        self.problems = problems
        where = f"{source} {event_type}" if event_type else source
        super().__init__(f"{where}: " + "; ".join(problems))

    @classmethod
    def from_validation(
        cls, source: str, event_type: str | None, error: ValidationError, prefix: str = ""
    ) -> MappingError:
        problems = []
        for item in error.errors(include_input=False, include_url=False, include_context=False):
            loc = ".".join(str(part) for part in (prefix, *item["loc"]) if part != "")
            problems.append(f"{loc or '(root)'}: {item['msg']}")
        return cls(source, event_type, problems[:10])
