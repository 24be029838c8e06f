"""SandboxServer: the sandbox on a real socket, in a background thread."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from devstack.sandbox.app import Sandbox
from devstack.sandbox.clock import Clock
from devstack.sandbox.config import SandboxCredentials
from devstack.sandbox.faults import Fault
from devstack.sandbox.store import DEFAULT_MAX_REQUESTS
from devstack.sandbox.vendors import DOCUMENTED_RATE_LIMIT


class _Handler(WSGIRequestHandler):
    # Werkzeug writes the status/headers and the body in separate sends; with Nagle's
    # algorithm on, the body waits for the client's delayed ACK (~40 ms per request).
    disable_nagle_algorithm = True


class _QuietHandler(_Handler):
    """No access log line per request: the /_sandbox page is the log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SandboxServer:
    """The vendor sandbox, listening on ``host:port`` (port 0 picks a free one).

    >>> with SandboxServer() as sandbox:
    ...     env = {**sandbox.base_urls(), **sandbox.credentials.as_env()}
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: SandboxCredentials | None = None,
        *,
        clock: Clock | None = None,
        loops_rate_limit: int | None = DOCUMENTED_RATE_LIMIT,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        access_log: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.sandbox = Sandbox(credentials, clock=clock, loops_rate_limit=loops_rate_limit, max_requests=max_requests)
        self._access_log = access_log
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def credentials(self) -> SandboxCredentials:
        return self.sandbox.credentials

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Bind and serve in a daemon thread; returns once the socket is accepting connections."""
        if self._server is not None:
            raise RuntimeError("sandbox already started")
        handler = _Handler if self._access_log else _QuietHandler
        # make_server binds and listens before returning, so the sandbox is reachable as
        # soon as start() returns; no polling needed by callers.
        server = make_server(self.host, self.port, self.sandbox, threaded=True, request_handler=handler)
        self._server = server
        self.port = server.server_port
        # A short poll interval keeps stop() fast (serve_forever checks for shutdown between polls).
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"sandbox:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server stops (Ctrl-C interrupts the wait)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- addresses --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:4010``."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host  # noqa: S104 - comparison, not a bind
        host = "[::1]" if host == "::" else (f"[{host}]" if ":" in host and not host.startswith("[") else host)
        return f"http://{host}:{self.port}"

    def base_urls(self) -> dict[str, str]:
        """The bridge's *_BASE_URL settings pointing here (SegMetrics without account/integration)."""
        return {name: self.url + path for name, path in self.sandbox.base_paths().items()}

    def as_env(self) -> dict[str, str]:
        """Base URLs and credentials together: everything a bridge process needs."""
        return {**self.base_urls(), **self.credentials.as_env()}

    # --- in-process inspection (same data as /_sandbox) ------------------------------

    def requests(self, vendor: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        return [record.to_dict() for record in self.sandbox.log.list(vendor=vendor, **filters)]

    def clear_requests(self, vendor: str | None = None) -> None:
        self.sandbox.log.clear(vendor)

    def state(self, vendor: str) -> dict[str, Any]:
        return self.sandbox.services[vendor].snapshot()

    def add_fault(
        self,
        vendor: str,
        status: int | None = None,
        count: int = 1,
        retry_after: float | None = None,
        delay_ms: int = 0,
        echo: bool = False,
    ) -> None:
        options = {"status": status, "count": count, "retry_after": retry_after, "delay_ms": delay_ms, "echo": echo}
        spec = {"vendor": vendor, **options}
        self.sandbox.faults.add(Fault.from_spec(spec, self.sandbox.vendors))

    def clear_faults(self, vendor: str | None = None) -> None:
        self.sandbox.faults.clear(vendor)

    def set_latency(self, vendor: str, ms: float) -> None:
        if vendor not in self.sandbox.vendors:
            raise ValueError(f"unknown vendor {vendor!r}")
        self.sandbox.latency.set(vendor, ms)

    def reset(self) -> None:
        self.sandbox.reset()
