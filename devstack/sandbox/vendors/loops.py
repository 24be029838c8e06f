"""Loops API v1: the calls the bridge makes (contacts update/delete, events/send), with its
10 req/s limit.

As the document says: every contact write and every event needs an ``email`` (a ``userId``
only identifies alongside it), and only ``delete`` accepts a ``userId`` alone.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.sandbox.clock import Clock
from devstack.sandbox.config import SandboxCredentials
from devstack.sandbox.faults import Fault
from devstack.sandbox.ratelimit import SlidingWindowRateLimiter
from devstack.sandbox.store import BoundedDict, IndexedRecords
from devstack.sandbox.vendors.base import Refused, VendorService
from devstack.sandbox.wire import is_id, json_response, non_empty_string, utc_now
from webhook_bridge.vendors.loops.spec import SPEC as LOOPS

DOCUMENTED_RATE_LIMIT = int(LOOPS.rate_limit_per_second)  # "10 requests per second per team"
IDEMPOTENCY_KEY_MAX_LENGTH = 100
IDEMPOTENCY_TTL_SECONDS = 24 * 3600  # how long Loops remembers a key
MAX_CONTACTS = 50_000
MAX_EVENTS = 20_000
MAX_IDEMPOTENCY_KEYS = 100_000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class Loops(VendorService):
    name = "loops"
    prefix = "/loops/api/v1"
    env_var = "LOOPS_BASE_URL"
    routes = (
        ("PUT", "/contacts/update", "update_contact"),
        ("POST", "/contacts/delete", "delete_contact"),
        ("POST", "/events/send", "send_event"),
    )
    credential_fields = ("loops_api_key",)
    key_scheme = "Bearer"
    unauthorized = "Invalid API key"
    json_only = True  # every body the document shows is a JSON object, and nothing else
    tables = ("contacts", "events")

    def __init__(self, credentials: SandboxCredentials, clock: Clock, rate_limit: int | None) -> None:
        # One limiter for all endpoints: the limit is per team, and one key is one team.
        self.limiter = SlidingWindowRateLimiter(rate_limit, clock) if rate_limit else None
        super().__init__(credentials, clock)

    def reset(self) -> None:
        with self.lock:
            self.contacts = IndexedRecords(MAX_CONTACTS, "id", ("email", "userId"))
            self.events: deque[dict[str, Any]] = deque(maxlen=MAX_EVENTS)
            self.idempotency_keys: BoundedDict[str, float] = BoundedDict(MAX_IDEMPOTENCY_KEYS)
            self._ids = itertools.count(1)
            if self.limiter is not None:
                self.limiter.reset()

    def admit(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        if self.limiter is None:
            return None, {}
        decision = self.limiter.acquire()
        if decision.allowed:
            return None, decision.headers()
        refused = self.error(429, "Rate limit exceeded.")
        refused.headers.update(decision.headers())
        return refused, {}

    def error(self, status: int, message: str, errors: list[str] | None = None) -> Response:
        return json_response({"success": False, "message": message}, status)

    def fault_response(self, fault: Fault, echoed: str | None = None) -> Response:
        response = super().fault_response(fault, echoed)
        if fault.status == 429 and self.limiter is not None:
            # A throttling answer from Loops always carries its rate-limit headers.
            response.headers["x-ratelimit-limit"] = str(self.limiter.limit)
            response.headers["x-ratelimit-remaining"] = "0"
        return response

    # --- contacts -----------------------------------------------------------------

    def _contact_body(self, request: Request) -> dict[str, Any]:
        """The contact to update (or create); Loops' 400 when it lacks the email (a userId does not
        stand in for it: "The only required field is 'email'")."""
        body = self.json_object(request)
        if problem := _contact_problem(body):
            raise Refused(self.error(400, problem))
        return body

    def update_contact(self, request: Request) -> Response:
        body = self._contact_body(request)
        # userId identifies the contact when given, so that the email itself can change.
        contact = self._find(None, body.get("userId")) or self._find(body.get("email"), None)
        if contact is not None and non_empty_string(body.get("email")):
            owner = self._find(body["email"], None)
            if owner is not None and owner["id"] != contact["id"]:
                return self.error(409, "Email is already used by another contact.")
        contact = self._save(contact or self._new_contact(), body)
        return json_response({"success": True, "id": contact["id"]})

    def delete_contact(self, request: Request) -> Response:
        body = self.json_object(request)
        email, user_id = body.get("email"), body.get("userId")
        # "Be sure to supply either an email ... Or a user id": one of them, not both.
        if non_empty_string(email) == is_id(user_id):
            return self.error(400, "Provide either an email or a userId.")
        contact = self._find(email, None) if email else self._find(None, user_id)
        if contact is None:
            return self.error(404, "Contact not found.")
        self.contacts.remove(contact)
        return json_response({"success": True, "message": "Contact deleted."})

    # --- events -------------------------------------------------------------------

    def send_event(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is not None and (not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH):
            return self.error(400, f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters.")
        if key is not None and self._key_seen(key):
            return self.error(409, "Duplicate request: this Idempotency-Key has already been used.")
        body = self.json_object(request)
        if not non_empty_string(body.get("eventName")):
            return self.error(400, "eventName is required.")
        # "Both fields are required": email and eventName.
        if not non_empty_string(body.get("email")):
            return self.error(400, "email is required.")
        # "You can add additional fields … to update the contact attributes": every field but
        # eventName is a contact field, held to the contact rules (plain values only).
        contact_fields = {k: v for k, v in body.items() if k != "eventName"}
        problem = _contact_problem(contact_fields)
        if problem:
            return self.error(400, problem)
        # "If no contact with that email address exists, one will be added", and the extra
        # fields update the contact as /contacts/update would.
        contact = self._find(None, body.get("userId")) or self._find(body.get("email"), None)
        contact = self._save(contact or self._new_contact(), contact_fields)
        event = {
            "id": f"evt_{next(self._ids)}",
            "eventName": body["eventName"],
            "email": contact.get("email"),
            "userId": contact.get("userId"),
            "contactId": contact["id"],
            "idempotencyKey": key,
            "receivedAt": utc_now(),
        }
        self.events.append(event)
        if key is not None:
            # Only a request that succeeded uses up its key, so a corrected retry can pass.
            self.idempotency_keys[key] = self.clock.monotonic() + IDEMPOTENCY_TTL_SECONDS
        return json_response({"success": True, "id": event["id"]})

    # --- state --------------------------------------------------------------------

    def _key_seen(self, key: str) -> bool:
        expires = self.idempotency_keys.get(key)
        if expires is None:
            return False
        if expires <= self.clock.monotonic():
            self.idempotency_keys.pop(key, None)
            return False
        return True

    def _find(self, email: Any, user_id: Any) -> dict[str, Any] | None:
        if non_empty_string(email):
            return self.contacts.find("email", email)
        return self.contacts.find("userId", user_id) if is_id(user_id) else None

    def _new_contact(self) -> dict[str, Any]:
        return {
            "id": f"cnt_{next(self._ids)}",
            **dict.fromkeys(("email", "firstName", "lastName", "userGroup", "userId")),
            "source": "API",
            "subscribed": True,
        }

    def _save(self, contact: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        self.contacts.unfile(contact)
        for key, value in fields.items():
            contact[key] = value.strip() if key == "email" and isinstance(value, str) else value
        return self.contacts.save(contact)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _contact_problem(fields: dict[str, Any]) -> str | None:
    """An email, and flat contact properties: strings, numbers, booleans (or null to clear)."""
    email = fields.get("email")
    if not non_empty_string(email):
        return "email is required."
    if not (isinstance(email, str) and EMAIL.match(email.strip())):
        return "Invalid email address."
    if fields.get("subscribed") is not None and not isinstance(fields["subscribed"], bool):
        return "subscribed must be a boolean."
    for key, value in fields.items():  # mailingLists is not in the document: a property like any other
        if not _scalar(value):
            return f"Invalid value for contact property '{key}': nested objects and arrays are not allowed."
    return None
