"""Bounded, thread-safe in-memory storage: the request log and size-capped maps for vendor state."""

from __future__ import annotations

import base64
import binascii
import copy
import threading
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")

DEFAULT_MAX_REQUESTS = 5_000
# Headers whose values are credentials; recorded masked so the log can be shown or pasted safely.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def _mask_secret(secret: str) -> str:
    # Keep the last 4 characters of long secrets: enough to tell two keys apart.
    return "****" + secret[-4:] if len(secret) >= 12 else "****"


def mask_authorization(value: str | None) -> str | None:
    """Mask an Authorization value, keeping the scheme and, for Basic, the user name.

    The user name is the ConvertLoop app id or Customer.io site id: not secret, and the
    first thing a person checks when a request is refused.
    """
    if value is None:
        return None
    scheme, _, credentials = value.partition(" ")
    if not credentials:
        return _mask_secret(value)  # SegMetrics sends the raw key
    if scheme.lower() == "basic":
        try:
            user, _, _ = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "Basic ****"
        return f"Basic {user}:****"
    return f"{scheme} {_mask_secret(credentials)}"


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    redacted: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization"):
            redacted[name] = mask_authorization(value) or ""
        elif lowered in SECRET_HEADERS:
            redacted[name] = "****"
        else:
            redacted[name] = value
    return redacted


@dataclass
class RecordedRequest:
    """One vendor call as the sandbox saw it, with the answer it gave."""

    id: int
    vendor: str
    method: str
    path: str
    endpoint: str  # path below the vendor's API root, e.g. "/events/send"
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any  # parsed JSON (or form fields); None when absent or unparseable
    status: int
    at: str  # ISO 8601 UTC wall-clock time
    duration_ms: float = 0.0
    body_text: str | None = None  # raw body, only when it was not JSON or a form
    response: Any = None
    auth: str | None = None  # masked Authorization, for people reading the log
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """The last ``max_size`` vendor requests, oldest first."""

    def __init__(self, max_size: int = DEFAULT_MAX_REQUESTS) -> None:
        self._items: deque[RecordedRequest] = deque(maxlen=max_size)
        self._lock = threading.Lock()
        self._next_id = 1

    def next_id(self) -> int:
        with self._lock:
            value = self._next_id
            self._next_id += 1
            return value

    def add(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def list(
        self,
        *,
        vendor: str | None = None,
        method: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
        since: int | None = None,
    ) -> list[RecordedRequest]:
        """Matching requests in the order they were answered (oldest first)."""
        with self._lock:
            items = list(self._items)
        return [
            item
            for item in items
            if (vendor is None or item.vendor == vendor)
            and (method is None or item.method == method.upper())
            and (endpoint is None or item.endpoint == endpoint)
            and (status is None or item.status == status)
            and (since is None or item.id > since)
        ]

    def clear(self, vendor: str | None = None) -> int:
        with self._lock:
            before = len(self._items)
            if vendor is None:
                self._items.clear()
            else:
                kept = [item for item in self._items if item.vendor != vendor]
                self._items.clear()
                self._items.extend(kept)
            return before - len(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class BoundedDict(OrderedDict[K, V]):
    """A dict that forgets its least recently written entries beyond ``max_size``.

    Vendor state (contacts, profiles, idempotency keys) must not grow without bound when a
    benchmark pushes a million distinct people through the sandbox. Not locked: the
    vendor services guard their whole state with one lock.
    """

    def __init__(self, max_size: int) -> None:
        super().__init__()
        self.max_size = max_size

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.max_size:
            self.popitem(last=False)


class IndexedRecords(BoundedDict[str, dict[str, Any]]):
    """Records by their ``key`` field, also found by the value of any of their ``fields``.

    A caller changes a record between ``unfile`` and ``save``, so that the identifiers it
    held stop finding it and those it holds now do. Emails are found case-blind.
    """

    def __init__(self, max_size: int, key: str, fields: tuple[str, ...]) -> None:
        super().__init__(max_size)
        self.key, self.fields = key, fields
        self._index: BoundedDict[tuple[str, str], str] = BoundedDict(max_size * len(fields))

    def find(self, field: str, value: Any) -> dict[str, Any] | None:
        record_key = None if value is None else self._index.get(_filing(field, value))
        return self.get(record_key) if record_key else None

    def unfile(self, record: dict[str, Any]) -> None:
        for filing in self._filings(record):
            self._index.pop(filing, None)

    def save(self, record: dict[str, Any]) -> dict[str, Any]:
        for filing in self._filings(record):
            self._index[filing] = record[self.key]
        self[record[self.key]] = record
        return record

    def remove(self, record: dict[str, Any]) -> None:
        self.unfile(record)
        self.pop(record[self.key], None)

    def _filings(self, record: dict[str, Any]) -> list[tuple[str, str]]:
        return [_filing(field, record[field]) for field in self.fields if record.get(field)]


def _filing(field: str, value: Any) -> tuple[str, str]:
    text = str(value)
    return field, text.strip().lower() if field == "email" else text


def listed(tables: Mapping[str, Any]) -> dict[str, Any]:
    """State tables (maps and logs) as a JSON-ready deep copy: the values of each, in order."""
    return copy.deepcopy({name: list(t.values() if isinstance(t, dict) else t) for name, t in tables.items()})
