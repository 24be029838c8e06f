"""The sandbox as one WSGI application: vendor APIs under their prefixes, plus /_sandbox."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from devstack.sandbox.clock import Clock, SystemClock
from devstack.sandbox.config import SandboxCredentials
from devstack.sandbox.faults import FaultInjector, LatencyTable
from devstack.sandbox.inspection import Inspector
from devstack.sandbox.store import DEFAULT_MAX_REQUESTS, RecordedRequest, RequestLog, redact_headers
from devstack.sandbox.vendors import DOCUMENTED_RATE_LIMIT, VendorService, build_services
from devstack.sandbox.vendors.base import NOTE_HEADER
from devstack.sandbox.wire import json_response, read_body

log = logging.getLogger(__name__)

INSPECTION_PREFIX = "/_sandbox"
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_RECORDED_TEXT = 20_000  # characters of a non-JSON body kept in the log


class SandboxRequest(Request):
    max_content_length = MAX_BODY_BYTES


class Sandbox:
    """All sandbox state and the WSGI entry point; `SandboxServer` puts it on a socket."""

    def __init__(
        self,
        credentials: SandboxCredentials | None = None,
        *,
        clock: Clock | None = None,
        loops_rate_limit: int | None = DOCUMENTED_RATE_LIMIT,
        max_requests: int = DEFAULT_MAX_REQUESTS,
    ) -> None:
        self.credentials = credentials or SandboxCredentials()
        self.clock = clock or SystemClock()
        self.services: dict[str, VendorService] = {
            service.name: service
            for service in build_services(self.credentials, self.clock, loops_rate_limit=loops_rate_limit)
        }
        self.log = RequestLog(max_requests)
        self.faults = FaultInjector()
        self.latency = LatencyTable()
        self.inspector = Inspector(self)

    @property
    def vendors(self) -> frozenset[str]:
        return frozenset(self.services)

    def base_paths(self) -> dict[str, str]:
        """Setting name -> API root path under the sandbox, e.g. LOOPS_BASE_URL -> /loops/api/v1."""
        return {service.env_var: service.prefix for service in self.services.values()}

    def reset(self) -> None:
        """Back to a fresh sandbox: no requests, no faults, no latency, no vendor data."""
        self.log.clear()
        self.faults.clear()
        self.latency.clear()
        self.reset_state()

    def reset_state(self) -> None:
        for service in self.services.values():
            service.reset()

    # --- WSGI -------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = SandboxRequest(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == INSPECTION_PREFIX or path.startswith(INSPECTION_PREFIX + "/"):
            return self.inspector.dispatch(request)
        service = self._service_for(path)
        if service is None:
            return json_response(
                {"error": "not a sandbox path", "vendors": self.base_paths(), "inspect": f"{INSPECTION_PREFIX}/"},
                404,
            )
        started = time.perf_counter()
        response = self._call_vendor(service, request, path[len(service.prefix) :])
        self._record(service, request, response, (time.perf_counter() - started) * 1000)
        return response

    def _service_for(self, path: str) -> VendorService | None:
        prefixed = (s for s in self.services.values() if path == s.prefix or path.startswith(s.prefix + "/"))
        return next(prefixed, None)

    def _call_vendor(self, service: VendorService, request: Request, subpath: str) -> Response:
        latency_ms = self.latency.get(service.name)
        if latency_ms:
            self.clock.sleep(latency_ms / 1000)
        fault = self.faults.take(service.name)
        if fault is not None:
            if fault.delay_ms:
                self.clock.sleep(fault.delay_ms / 1000)
            if fault.status is not None:
                echoed = f"{request.method} {request.full_path.rstrip('?')} {request.get_data(as_text=True)}"
                return service.fault_response(fault, echoed if fault.echo else None)
        try:
            request.get_data(cache=True)  # read once, before handlers, so size limits apply uniformly
            return service.handle(request, subpath)
        except HTTPException as exc:
            return service.error(exc.code or 400, exc.description or exc.name)
        except Exception:
            # A sandbox bug must look like a vendor 500 (which clients retry), not kill the thread.
            log.exception("sandbox %s failed on %s %s", service.name, request.method, request.path)
            return service.error(500, "sandbox internal error (see the sandbox log)")

    def _record(self, service: VendorService, request: Request, response: Response, duration_ms: float) -> None:
        try:
            body = read_body(request)
        except HTTPException:
            body = None
        note = response.headers.get(NOTE_HEADER)
        query: dict[str, Any] = {key: values[0] if len(values) == 1 else values for key, values in request.args.lists()}
        headers = redact_headers(dict(request.headers.items()))
        self.log.add(
            RecordedRequest(
                id=self.log.next_id(),
                vendor=service.name,
                method=request.method,
                path=request.path,
                endpoint=request.path[len(service.prefix) :] or "/",
                query=query,
                headers=headers,
                body=body.value if body and body.kind in ("json", "form") else None,
                body_text=body.text[:MAX_RECORDED_TEXT] if body and body.kind == "invalid" else None,
                status=response.status_code,
                at=datetime.now(UTC).isoformat(timespec="milliseconds"),
                duration_ms=round(duration_ms, 3),
                response=_response_body(response),
                auth=headers.get("Authorization"),
                extra={"note": note} if note is not None else {},
            )
        )


def _response_body(response: Response) -> Any:
    text = response.get_data(as_text=True)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text[:MAX_RECORDED_TEXT]
