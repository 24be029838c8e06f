"""HTTP helpers shared by the vendor impersonations: bodies, credentials, JSON answers."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

BodyKind = Literal["empty", "json", "form", "invalid"]
_BRACKETS = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")


@dataclass(frozen=True)
class Body:
    kind: BodyKind
    value: Any = None  # parsed JSON or form fields
    text: str = ""

    @property
    def is_object(self) -> bool:
        return isinstance(self.value, dict)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers, content_type="application/json")


def read_body(request: Request) -> Body:
    """Parse a request body as JSON, or as a form when it is one.

    The Customer.io and SegMetrics documents show `curl -d key=value` examples, which send
    form bodies (sometimes even under a JSON content type), so forms are understood too.
    """
    raw = request.get_data(cache=True)
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        return Body("empty", None, "")
    try:
        return Body("json", json.loads(text), text)
    except ValueError:
        pass
    if "=" in text and not text.lstrip().startswith(("{", "[")):
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            return Body("invalid", None, text)
        return Body("form", unflatten_form(pairs), text)
    return Body("invalid", None, text)


def unflatten_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``data[price]=23.45`` into ``{"data": {"price": "23.45"}}`` (Rails/PHP convention)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        match = _BRACKETS.match(key)
        if not match:
            result[key] = value
            continue
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return result


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def key_in(request: Request, scheme: str) -> str | None:
    """The key of ``Authorization: <scheme> <key>``, or the whole header when ``scheme`` is empty."""
    header = request.headers.get("Authorization")
    if not scheme or header is None:
        return header
    given, _, key = header.partition(" ")
    return key.strip() if given.lower() == scheme.lower() and key.strip() else None


def secret_equals(given: str | None, expected: str) -> bool:
    """Constant-time comparison, as a real API would do it."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def non_empty_string(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def is_int(value: Any) -> bool:
    """An integer on the wire, where true and false are not numbers."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_id(value: Any) -> bool:
    """An identifier: a non-blank string, or a number (what most applications' ids are)."""
    return non_empty_string(value) or is_int(value)


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


def present(value: Any) -> bool:
    """A required field counts as given when it is not null, not blank and not an empty container."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        return bool(value)
    return True
