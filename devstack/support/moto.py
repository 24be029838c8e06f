"""moto's server in its own process: :class:`MotoServer` starts ``python -m devstack.support.moto PORT``.

Prints ``{"port": N}`` once it accepts connections and serves until its stdin
closes, so it never outlives the stack that started it (even after a kill -9).
moto's application is wrapped in :mod:`devstack.aws_faults`, so tests can inject AWS errors.

Why a separate process: moto keeps its state in module globals, so a server inside a
test process would share (and lose, on ``mock_aws`` exit) its queues with every
``mock_aws`` test there; and the emulated AWS calls would compete for one GIL with
the HTTP API and the pollers.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.request

from devstack.aws_faults import FAULTS_PATH
from devstack.functions import LogSink, stderr_sink

START_TIMEOUT_SECONDS = 30.0


class MotoServer:
    """moto's server in a child process on 127.0.0.1 (``port=0``: a free port)."""

    def __init__(self, port: int = 0, *, log_sink: LogSink = stderr_sink) -> None:
        self.requested_port = port
        self.port: int | None = None
        self._log_sink = log_sink
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("moto server not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", "devstack.support.moto", str(self.requested_port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # Ctrl-C goes to the stack, which stops moto last
        )
        threading.Thread(target=self._pump_logs, name="moto:logs", daemon=True).start()
        ready: queue.Queue[bytes] = queue.Queue()
        stdout = self._process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: ready.put(stdout.readline()), name="moto:ready", daemon=True).start()
        try:
            line = ready.get(timeout=START_TIMEOUT_SECONDS)
        except queue.Empty:
            line = b""
        if not line:
            self.stop()
            raise RuntimeError(f"moto server did not start on 127.0.0.1:{self.requested_port} (port in use?)")
        self.port = int(json.loads(line)["port"])
        return self

    def add_fault(self, target: str, code: str, *, status: int = 400, count: int = 1, body_contains: str = "") -> None:
        """Fail the next ``count`` requests to ``target`` (X-Amz-Target) whose body holds ``body_contains``."""
        spec = {"target": target, "code": code, "status": status, "count": count, "body_contains": body_contains}
        self._control("POST", json.dumps(spec).encode())

    def clear_faults(self) -> None:
        self._control("DELETE")

    def _control(self, method: str, body: bytes | None = None) -> None:
        request = urllib.request.Request(f"{self.endpoint}{FAULTS_PATH}", data=body, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own local moto
            response.read()

    def _pump_logs(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        with self._process.stderr as stderr:
            for raw in stderr:
                self._log_sink("moto", raw.decode("utf-8", "replace").rstrip("\r\n"))

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()  # read once, for the port; the log pump closes stderr


def main(argv: list[str]) -> int:
    port = int(argv[1]) if len(argv) > 1 else 0
    _detach_sqs_event_sources()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us by closing stdin
    # Werkzeug logs every request at INFO when nothing is configured; the stack has its own log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from devstack.atomic_dynamodb import make_dynamodb_requests_atomic
    from devstack.aws_faults import AwsFaults

    make_dynamodb_requests_atomic()  # the server handles each request on its own thread
    # What moto's ThreadedMotoServer does, with the fault injector in front of moto's app.
    server = make_server("127.0.0.1", port, AwsFaults(DomainDispatcherApplication(create_backend_app)), threaded=True)
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    sys.stdout.write(json.dumps({"port": server.server_port}) + "\n")
    sys.stdout.flush()
    sys.stdin.read()
    # Long polls still waiting inside moto would delay a normal shutdown; nothing needs saving.
    os._exit(0)


def _detach_sqs_event_sources() -> None:
    """The stack's pollers are the SQS event sources: moto keeps the mappings' state for the
    Lambda API, but must not receive messages and invoke functions itself (it would need
    Docker, and would race the pollers). Its queues then see no mapping at all."""
    from moto.sqs.models import Queue

    Queue.lambda_event_source_mappings = property(lambda queue: {}, lambda queue, value: None)  # type: ignore[assignment]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
