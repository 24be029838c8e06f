"""ConvertLoop REST API v1: identify people (and segments) and track event logs."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.sandbox.store import BoundedDict
from devstack.sandbox.vendors.base import VendorService
from devstack.sandbox.wire import is_int, json_response, non_empty_string, utc_now

IDENTIFIERS = ("pid", "user_id", "email")
# The keys an event log may have: the document's table, which also spells occured_at
# "ocurred_at" in its prose. Unlike /people, where "any other key will be treated as a
# custom attribute", nothing gives another key here a meaning, so it is refused.
EVENT_KEYS = ("name", "occured_at", "ocurred_at", "person", "metadata")
MAX_PEOPLE = 50_000
MAX_EVENTS = 20_000


class ConvertLoop(VendorService):
    name = "convertloop"
    prefix = "/convertloop/v1"
    env_var = "CONVERTLOOP_BASE_URL"
    routes = (("POST", "/people", "post_people"), ("POST", "/event_logs", "post_event_logs"))
    credential_fields = ("convertloop_app_id", "convertloop_api_key")
    unauthorized = "missing or invalid app_id / api_key (HTTP Basic auth)"
    json_only = True  # "We use JSON to send and receive information."
    realm = "ConvertLoop"
    tables = ("people", "event_logs")

    def reset(self) -> None:
        with self.lock:
            self.people: BoundedDict[str, dict[str, Any]] = BoundedDict(MAX_PEOPLE)
            self.index: BoundedDict[str, str] = BoundedDict(MAX_PEOPLE * len(IDENTIFIERS))
            self.event_logs: deque[dict[str, Any]] = deque(maxlen=MAX_EVENTS)
            self._ids = itertools.count(1)

    def error(self, status: int, message: str, errors: list[str] | None = None) -> Response:
        return json_response({"success": False, "error": message, "errors": errors or [message]}, status)

    # The document lists 400 for "domain validation errors, missing data" and 422 for
    # "unable to process the given information": a body that is not a JSON object is
    # unprocessable (422); a field that is missing or of the wrong kind is a 400.

    def post_people(self, request: Request) -> Response:
        body = self.json_object(request, status=422)
        errors = _problems(body, PERSON_FIELDS)
        if not any(non_empty_string(body.get(key)) for key in IDENTIFIERS):
            errors.insert(0, "one of pid, user_id or email is required")
        if errors:
            return self.error(400, errors[0], errors)
        person = self._upsert_person(body)
        return json_response({"success": True, "person": person})

    def post_event_logs(self, request: Request) -> Response:
        body = self.json_object(request, status=422)
        person_data = body.get("person")
        errors = [] if non_empty_string(body.get("name")) else ["name is required"]
        if isinstance(person_data, dict):
            errors += [f"person.{error}" for error in _problems(person_data, PERSON_FIELDS)]
        errors += _problems(body, EVENT_FIELDS)
        errors += [f"{key} is not an event log key" for key in body if key not in EVENT_KEYS]
        if errors:
            return self.error(400, errors[0], errors)
        person = None
        if isinstance(person_data, dict) and any(person_data.get(key) for key in IDENTIFIERS):
            person = self._upsert_person(person_data)
        event = {
            "id": next(self._ids),
            "name": body["name"],
            "occured_at": body.get("occured_at") or body.get("ocurred_at") or utc_now(),
            "metadata": body.get("metadata") or {},
            "person_id": person["id"] if person else None,
            "person": person_data,
        }
        self.event_logs.append(event)
        return json_response({"success": True, "event_log": event})

    # --- people -------------------------------------------------------------------

    def _find(self, data: dict[str, Any]) -> dict[str, Any] | None:
        # The application's user_id is the strongest identity, then email, then the cookie.
        for key in ("user_id", "email", "pid"):
            if data.get(key) is None or data.get(key) == "":
                continue
            person_id = self.index.get(_index_key(key, data[key]))
            if person_id is not None and person_id in self.people:
                return self.people[person_id]
        return None

    def _upsert_person(self, data: dict[str, Any]) -> dict[str, Any]:
        person = self._find(data)
        if person is None:
            person = {
                "id": f"person_{next(self._ids)}",
                **dict.fromkeys(IDENTIFIERS),
                "segments": [],
                "attributes": {},
                "subscribed": True,
                "created_at": utc_now(),
            }
        for key in IDENTIFIERS:
            if data.get(key) is not None:
                if person[key] is not None:
                    self.index.pop(_index_key(key, person[key]), None)
                person[key] = data[key]
                self.index[_index_key(key, data[key])] = person["id"]
        segments: list[str] = list(person["segments"])
        for name in _segments(data.get("add_to_segments")) or []:
            if name not in segments:
                segments.append(name)
        removed = set(_segments(data.get("remove_from_segments")) or [])
        person["segments"] = [name for name in segments if name not in removed]
        if data.get("resubscribe") is True:
            person["subscribed"] = True
        special = {*IDENTIFIERS, "add_to_segments", "remove_from_segments", "resubscribe"}
        for key, value in data.items():
            if key in ("first_seen_at", "last_seen_at"):
                person[key] = value
            elif key not in special:
                person["attributes"][key] = value  # "any other key will be treated as a custom attribute"
        person["updated_at"] = utc_now()
        self.people[person["id"]] = person
        return person


def _index_key(kind: str, value: Any) -> str:
    text = str(value)
    return f"{kind}:{text.strip().lower() if kind == 'email' else text}"


def _segments(value: Any) -> list[str] | None:
    """The segment named, as a list; None when malformed. The document types the two
    segment keys as "string": a list is refused, though the prose says "one or several"."""
    if value is None:
        return []
    return [value] if non_empty_string(value) else None


def _is_datetime(value: Any) -> bool:
    """A "datetime" value: ISO 8601 text, or seconds since the epoch."""
    if is_int(value):
        return value >= 0
    if not non_empty_string(value):
        return False
    try:
        datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _problems(data: dict[str, Any], fields: FieldRules) -> list[str]:
    """What is wrong with the optional fields of ``data`` (null counts as absent)."""
    return [
        f"{key} {problem}" for keys, valid, problem in fields for key in keys if not _absent_or(valid, data.get(key))
    ]


def _absent_or(valid: Callable[[Any], bool], value: Any) -> bool:
    return value is None or valid(value)


FieldRules = tuple[tuple[tuple[str, ...], Callable[[Any], bool], str], ...]  # names, a valid value, the problem
PERSON_FIELDS: FieldRules = (
    (("email",), lambda v: isinstance(v, str) and "@" in v, "is invalid"),
    (("pid", "user_id"), non_empty_string, "must be a string"),  # the table's type: "string"
    (
        ("add_to_segments", "remove_from_segments"),
        lambda v: bool(_segments(v)),
        "must be a segment name (a string)",
    ),
    (("resubscribe",), lambda v: isinstance(v, bool), "must be a boolean"),
    (("first_seen_at", "last_seen_at"), _is_datetime, "must be a datetime"),
)
EVENT_FIELDS: FieldRules = (
    (("person",), lambda v: isinstance(v, dict), "must be a hash"),
    (("metadata",), lambda v: isinstance(v, dict), "must be a hash"),
    (("occured_at", "ocurred_at"), _is_datetime, "must be a datetime"),
)
