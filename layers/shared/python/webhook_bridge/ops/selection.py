"""Which dead-lettered messages ``bridgectl dlq redrive`` takes: by id, reason, status, event type and date."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import UTC, datetime

from webhook_bridge.ops.dlq import DeadLetter


def parse_when(text: str) -> datetime:
    """``2026-11-01`` or ISO 8601; UTC unless it says otherwise (argparse type)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Selection:
    ids: frozenset[str] = frozenset()
    reason: str | None = None  # part of the failure reason or error class, any case
    status: str | None = None  # the HTTP status the vendor answered
    event_types: tuple[str, ...] = ()  # shell patterns: invoice.*, customer.subscription.*
    since: datetime | None = None  # dead-lettered at or after
    until: datetime | None = None  # dead-lettered before

    @property
    def is_everything(self) -> bool:
        return not (self.ids or self.reason or self.status or self.event_types or self.since or self.until)

    def matches(self, letter: DeadLetter) -> bool:
        summary = letter.summary()
        failed_at = letter.failed_at
        when = datetime.fromtimestamp(failed_at, UTC) if failed_at is not None else None
        return all(
            (
                not self.ids or letter.message_id in self.ids,
                not self.reason or self.reason.lower() in f"{summary['reason']} {summary['class']}".lower(),
                not self.status or summary["status"] == self.status,
                not self.event_types
                or any(fnmatch.fnmatchcase(str(summary["event_type"]), p) for p in self.event_types),
                not self.since or (when is not None and when >= self.since),
                not self.until or (when is not None and when < self.until),
            )
        )
