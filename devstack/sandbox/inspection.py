"""/_sandbox: what people and tests use to see what the vendors received, and to inject faults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from devstack.sandbox.faults import Fault, FaultSpecError
from devstack.sandbox.page import render_page
from devstack.sandbox.wire import json_response, read_body

if TYPE_CHECKING:
    from devstack.sandbox.app import Sandbox


# Built once: compiling werkzeug rules is slow enough to matter when tests start many sandboxes.
_MAP = Map(
    [
        Rule("/_sandbox/", endpoint="page", methods=["GET"]),
        Rule("/_sandbox/health", endpoint="health", methods=["GET"]),
        Rule("/_sandbox/env", endpoint="env", methods=["GET"]),
        Rule("/_sandbox/requests", endpoint="list_requests", methods=["GET"]),
        Rule("/_sandbox/requests", endpoint="clear_requests", methods=["DELETE"]),
        Rule("/_sandbox/state", endpoint="get_state", methods=["GET"]),
        Rule("/_sandbox/state", endpoint="clear_state", methods=["DELETE"]),
        Rule("/_sandbox/faults", endpoint="list_faults", methods=["GET"]),
        Rule("/_sandbox/faults", endpoint="add_fault", methods=["POST"]),
        Rule("/_sandbox/faults", endpoint="clear_faults", methods=["DELETE"]),
        Rule("/_sandbox/latency", endpoint="get_latency", methods=["GET"]),
        Rule("/_sandbox/latency", endpoint="set_latency", methods=["POST"]),
        Rule("/_sandbox/latency", endpoint="clear_latency", methods=["DELETE"]),
        Rule("/_sandbox/reset", endpoint="reset", methods=["POST"]),
    ],
    strict_slashes=False,
)


class Inspector:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.url_map = _MAP

    def dispatch(self, request: Request) -> Response:
        try:
            endpoint, args = self.url_map.bind("sandbox").match(request.path, method=request.method)
            response = getattr(self, str(endpoint))(request, **args)
        except (NotFound, RequestRedirect):
            return json_response({"error": f"no such sandbox endpoint: {request.method} {request.path}"}, 404)
        except MethodNotAllowed:
            return json_response({"error": f"method {request.method} not allowed on {request.path}"}, 405)
        except _BadRequest as exc:
            return json_response({"error": str(exc)}, 400)
        except HTTPException as exc:
            return json_response({"error": exc.description}, exc.code or 400)
        assert isinstance(response, Response)
        return response

    # --- helpers --------------------------------------------------------------------

    def _vendor(self, request: Request, *, required: bool = False) -> str | None:
        vendor = request.args.get("vendor")
        if vendor is None and not required:
            return None
        if vendor not in self.sandbox.vendors:
            raise _BadRequest(f"'vendor' must be one of {sorted(self.sandbox.vendors)}")
        return vendor

    @staticmethod
    def _int(request: Request, name: str) -> int | None:
        value = request.args.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except ValueError as exc:
            raise _BadRequest(f"'{name}' must be an integer") from exc

    @staticmethod
    def _json(request: Request) -> Any:
        body = read_body(request)
        if body.kind != "json":
            raise _BadRequest("body must be JSON")
        return body.value

    # --- endpoints --------------------------------------------------------------------

    def page(self, request: Request) -> Response:
        vendor = self._vendor(request)
        limit = self._int(request, "limit") or 100
        refresh = self._int(request, "refresh")
        records = self.sandbox.log.list(vendor=vendor)
        html = render_page(
            records,
            vendors=list(self.sandbox.services),
            base_paths=self.sandbox.base_paths(),
            limit=limit,
            selected=vendor,
            refresh=refresh,
            faults=self.sandbox.faults.pending(),
            latency=self.sandbox.latency.as_dict(),
        )
        return Response(html, content_type="text/html; charset=utf-8")

    def health(self, request: Request) -> Response:
        return json_response({"status": "ok", "vendors": self.sandbox.base_paths(), "recorded": len(self.sandbox.log)})

    def env(self, request: Request) -> Response:
        """The environment a bridge process needs to talk to this sandbox, as it is reached now."""
        root = request.host_url.rstrip("/")
        urls = {name: root + path for name, path in self.sandbox.base_paths().items()}
        return json_response({**urls, **self.sandbox.credentials.as_env()})

    def list_requests(self, request: Request) -> Response:
        records = self.sandbox.log.list(
            vendor=self._vendor(request),
            method=request.args.get("method"),
            endpoint=request.args.get("endpoint"),
            status=self._int(request, "status"),
            since=self._int(request, "since"),
        )
        limit = self._int(request, "limit")
        if limit is not None and limit >= 0:
            records = records[-limit:] if limit else []
        if request.args.get("order") == "desc":
            records.reverse()
        return json_response([record.to_dict() for record in records])

    def clear_requests(self, request: Request) -> Response:
        return json_response({"cleared": self.sandbox.log.clear(self._vendor(request))})

    def get_state(self, request: Request) -> Response:
        vendor = self._vendor(request)
        services = [self.sandbox.services[vendor]] if vendor else self.sandbox.services.values()
        return json_response({service.name: service.snapshot() for service in services})

    def clear_state(self, request: Request) -> Response:
        self.sandbox.reset_state()
        return json_response({"cleared": True})

    def list_faults(self, request: Request) -> Response:
        return json_response(self.sandbox.faults.pending())

    def add_fault(self, request: Request) -> Response:
        try:
            fault = Fault.from_spec(self._json(request), self.sandbox.vendors)
        except FaultSpecError as exc:
            raise _BadRequest(str(exc)) from exc
        self.sandbox.faults.add(fault)
        return json_response({"added": fault.to_dict(), "pending": self.sandbox.faults.pending()}, 201)

    def clear_faults(self, request: Request) -> Response:
        self.sandbox.faults.clear(self._vendor(request))
        return json_response({"pending": self.sandbox.faults.pending()})

    def get_latency(self, request: Request) -> Response:
        return json_response(self.sandbox.latency.as_dict())

    def set_latency(self, request: Request) -> Response:
        spec = self._json(request)
        if not isinstance(spec, dict):
            raise _BadRequest("body must be a JSON object")
        vendor, ms = spec.get("vendor"), spec.get("ms")
        if vendor != "*" and vendor not in self.sandbox.vendors:
            raise _BadRequest(f"'vendor' must be '*' or one of {sorted(self.sandbox.vendors)}")
        if not isinstance(ms, int | float) or isinstance(ms, bool) or ms < 0:
            raise _BadRequest("'ms' must be a number >= 0 (0 removes the latency)")
        for name in self.sandbox.vendors if vendor == "*" else [vendor]:
            self.sandbox.latency.set(name, float(ms))
        return json_response(self.sandbox.latency.as_dict())

    def clear_latency(self, request: Request) -> Response:
        self.sandbox.latency.clear()
        return json_response({})

    def reset(self, request: Request) -> Response:
        self.sandbox.reset()
        return json_response({"reset": True})


class _BadRequest(ValueError):
    pass
