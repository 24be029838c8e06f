"""What every impersonated vendor API has in common: a path prefix, auth, routing, state."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from devstack.sandbox.clock import Clock
from devstack.sandbox.config import SandboxCredentials
from devstack.sandbox.faults import Fault
from devstack.sandbox.store import listed
from devstack.sandbox.wire import Body, basic_credentials, key_in, read_body, secret_equals

# Header through which a vendor tells the person reading the log something the vendor
# itself would not say (e.g. "duplicate event id ignored"); copied into the record.
NOTE_HEADER = "X-Sandbox-Note"
_MAPS: dict[type, Map] = {}


class Refused(Exception):
    """The vendor's error answer, raised from wherever a handler finds the request wanting."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class VendorService(ABC):
    """One vendor API mounted under ``prefix`` on the sandbox."""

    name: ClassVar[str]  # key used by /_sandbox endpoints, e.g. "loops"
    prefix: ClassVar[str]  # API root under the sandbox, e.g. "/loops/api/v1"
    env_var: ClassVar[str]  # the bridge's setting for that root, e.g. "LOOPS_BASE_URL"
    routes: ClassVar[tuple[tuple[str, str, str], ...]] = ()  # (method, path below the prefix, handler)
    # The credentials checked: two fields are HTTP Basic (user, key); one is a key sent after
    # ``key_scheme``, or alone when the scheme is empty (SegMetrics' raw key).
    credential_fields: ClassVar[tuple[str, ...]]
    key_scheme: ClassVar[str] = ""
    unauthorized: ClassVar[str]  # the 401's message
    realm: ClassVar[str] = ""  # named in the WWW-Authenticate header of a Basic 401
    tables: ClassVar[tuple[str, ...]] = ()  # the state attributes /_sandbox/state shows
    # The document says its bodies are JSON: a form, or JSON under another content type, is
    # refused as a strict reading of it would. False: forms are understood too (Customer.io's curl).
    json_only: ClassVar[bool] = False

    def __init__(self, credentials: SandboxCredentials, clock: Clock, lock: threading.RLock | None = None) -> None:
        self.credentials = credentials
        self.clock = clock
        # One lock per vendor: handlers are short and in-memory, so serialising them is
        # cheap and makes check-then-act logic (409 on duplicates) trivially correct.
        self.lock = lock or threading.RLock()
        self.url_map = self._shared_map()
        self.reset()

    @classmethod
    def _shared_map(cls) -> Map:
        # Rules are the same for every instance and compiling them costs ~1 ms each, so a
        # test suite starting a fresh sandbox per test builds each map only once.
        cached = _MAPS.get(cls)
        if cached is None:
            rules = [Rule(path, endpoint=handler, methods=[method]) for method, path, handler in cls.routes]
            cached = _MAPS[cls] = Map(rules, strict_slashes=False, merge_slashes=False)
        return cached

    # --- to implement -------------------------------------------------------------

    @abstractmethod
    def error(self, status: int, message: str, errors: list[str] | None = None) -> Response:
        """An error answer in the vendor's own body shape."""

    @abstractmethod
    def reset(self) -> None:
        """Forget all vendor-side state (contacts, events...)."""

    def snapshot(self) -> dict[str, Any]:
        """Vendor-side state as JSON, for /_sandbox/state."""
        with self.lock:
            return listed({name: getattr(self, name) for name in self.tables})

    def authenticate(self, request: Request) -> Response | None:
        """None when the credentials are right, else the vendor's 401."""
        expected = [getattr(self.credentials, field) for field in self.credential_fields]
        if len(expected) == 2:
            given = basic_credentials(request)
            if given is not None and secret_equals(given[0], expected[0]) and secret_equals(given[1], expected[1]):
                return None
        elif secret_equals(key_in(request, self.key_scheme), expected[0]):
            return None
        response = self.error(401, self.unauthorized)
        if len(expected) == 2:
            response.headers["WWW-Authenticate"] = f'Basic realm="{self.realm}"'
        return response

    # --- pipeline -----------------------------------------------------------------

    def admit(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        """Rate limiting hook: a refusal, or headers to add to the eventual answer."""
        return None, {}

    def guard(self, request: Request, args: Mapping[str, Any]) -> Response | None:
        """Check the matched path parameters (e.g. account ids) before the endpoint runs."""
        return None

    def handle(self, request: Request, path: str) -> Response:
        """Auth, then rate limit, then the endpoint. ``path`` is below the prefix."""
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        refused, headers = self.admit(request)
        if refused is not None:
            return refused
        response = self.route(request, path)
        for name, value in headers.items():
            response.headers[name] = value
        return response

    def route(self, request: Request, path: str) -> Response:
        adapter = self.url_map.bind("sandbox")
        try:
            endpoint, args = adapter.match(path or "/", method=request.method)
        except MethodNotAllowed as exc:
            response = self.error(405, f"method {request.method} not allowed on {path}")
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or []))
            return response
        except (NotFound, RequestRedirect):
            return self.error(404, f"no such endpoint: {request.method} {self.prefix}{path}")
        refused = self.guard(request, args)
        if refused is not None:
            return refused
        handler = getattr(self, str(endpoint))
        try:
            with self.lock:
                response = handler(request, **args)
        except Refused as refusal:
            response = refusal.response
        assert isinstance(response, Response)
        return response

    def fault_response(self, fault: Fault, echoed: str | None = None) -> Response:
        status = fault.status or 500
        message = f"sandbox: injected fault (HTTP {status})"
        response = self.error(status, f"{message}: invalid request {echoed}" if echoed is not None else message)
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        response.headers[NOTE_HEADER] = "injected fault"
        return response

    # --- helpers ------------------------------------------------------------------

    def json_object(self, request: Request, *, status: int = 400) -> dict[str, Any]:
        """The body as a dict; :class:`Refused` with this vendor's error when it is not a JSON object
        (sent as ``application/json``, for a ``json_only`` vendor)."""
        body: Body = read_body(request)
        if self.json_only and (request.mimetype != "application/json" or body.kind != "json"):
            raise Refused(self.error(status, "request body must be JSON, sent as application/json"))
        if not body.is_object:
            raise Refused(self.error(status, "request body must be a JSON object"))
        assert isinstance(body.value, dict)
        return body.value
