"""Running a function the way Lambda does: its own process, its own environment.

Why processes: every function module is ``app.py``, settings are read once at cold
start and cached (``@cache``), powertools keeps per-invocation state in module
globals, and environment variables like ``VENDOR``/``QUEUE_URL`` differ per
function. ``os.environ`` is process-global, so swapping it around invocations in
one process would race as soon as two functions run at once (and would not undo
what a cold start cached). A worker process per execution environment gets the
function's environment at spawn, exactly like Lambda, and handles one invocation at
a time; concurrency is more workers, up to the function's limit.

The child, ``devstack.worker``, imports only the standard library before the handler:
the handler's cold start must not see devstack's imports.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstack.template import FunctionSpec

LogSink = Callable[[str, str], None]  # (source, line)

INIT_TIMEOUT_SECONDS = 30.0  # Lambda allows 10 s of init; a laptop's first import can be slower
STOP_GRACE_SECONDS = 5.0
RELOAD_CHECK_INTERVAL = 1.0
_STOPPING = {"errorType": "Stopping", "errorMessage": "the local stack is stopping"}
_DEVSTACK_ROOT = str(Path(__file__).resolve().parent.parent)


def stderr_sink(source: str, line: str) -> None:
    sys.stderr.write(f"[{source}] {line}\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class InvocationResult:
    request_id: str
    ok: bool
    payload: Any = None  # the handler's return value, after a JSON round trip (as Lambda returns it)
    payload_text: str = ""  # the serialised return value, as Lambda hands it to the caller
    error: Mapping[str, Any] | None = None  # {"errorMessage", "errorType", "stackTrace"}

    @property
    def error_type(self) -> str | None:
        return None if self.error is None else str(self.error.get("errorType", "Unhandled"))


class _Worker:
    """One execution environment: a child process running ``devstack.worker``."""

    _EOF = object()

    def __init__(self, spec: FunctionSpec, env: Mapping[str, str], log_sink: LogSink, generation: int) -> None:
        self.spec = spec
        self.generation = generation
        cwd = spec.code_dir if spec.code_dir.is_dir() else None  # Lambda's cwd is the code (/var/task)
        # What the worker needs to load and run the function, on its command line.
        loading = {
            "function_name": spec.name,
            "function_arn": spec.arn,
            "code_dir": str(spec.code_dir),
            "handler": spec.handler,
            "memory_mb": spec.memory_mb,
            "layer_dirs": [str(directory) for directory in spec.layer_dirs],
        }
        # start_new_session: Ctrl-C reaches only the parent, which stops workers in order.
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", "devstack.worker", json.dumps(loading)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._log_sink = log_sink
        threading.Thread(target=self._read_protocol, name=f"{spec.logical_id}:protocol", daemon=True).start()
        threading.Thread(target=self._pump_logs, name=f"{spec.logical_id}:logs", daemon=True).start()

    def _read_protocol(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as stdout:
            for line in stdout:
                try:
                    self._inbox.put(json.loads(line))
                except ValueError:
                    self._log_sink(self.spec.logical_id, f"(devstack) unreadable worker message: {line[:200]!r}")
        self._inbox.put(self._EOF)

    def _pump_logs(self) -> None:
        assert self.process.stderr is not None
        with self.process.stderr as stderr:
            for raw in stderr:
                self._log_sink(self.spec.logical_id, raw.decode("utf-8", "replace").rstrip("\r\n"))

    def wait_ready(self, timeout: float) -> float | Mapping[str, Any]:
        """Init duration in ms, or Lambda's error document when the module cannot be loaded."""
        try:
            message = self._inbox.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            return {"errorType": "Runtime.InitTimeout", "errorMessage": f"init did not finish within {timeout:.0f} s"}
        if message is self._EOF:
            return {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited during init: {self._reap()}"}
        if message.get("type") == "init_error":
            self._reap()
            return dict(message["error"])
        return float(message.get("init_ms", 0))

    def invoke(self, request_id: str, event: Any, timeout: float | None) -> InvocationResult:
        """``timeout``: seconds to wait for the result, or None to wait as long as it takes."""
        started = time.time()
        request = {
            "request_id": request_id,
            "event": event,
            "deadline_ms": (started + self.spec.timeout_seconds) * 1000,
        }
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._exited(request_id)
        try:
            message = self._inbox.get(timeout=timeout)
        except queue.Empty:
            # Lambda stops the environment when the function times out; so do we.
            self.kill()
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            message_text = f"{stamp} {request_id} Task timed out after {self.spec.timeout_seconds:.2f} seconds"
            self._log_sink(self.spec.logical_id, message_text)
            return InvocationResult(
                request_id, ok=False, error={"errorMessage": message_text, "errorType": "Sandbox.Timedout"}
            )
        if message is self._EOF:
            return self._exited(request_id)
        if message.get("ok"):
            text = message["payload"]
            return InvocationResult(
                request_id,
                ok=True,
                payload=json.loads(text),
                payload_text=text,
            )
        return _failed(request_id, message.get("error") or {})

    def _exited(self, request_id: str) -> InvocationResult:
        code = self._reap()
        status = f"signal: {-code}" if code < 0 else f"exit status {code}"
        text = f"RequestId: {request_id} Error: Runtime exited with error: {status}"
        self._log_sink(self.spec.logical_id, text)
        return InvocationResult(request_id, ok=False, error={"errorType": "Runtime.ExitError", "errorMessage": text})

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Closing stdin ends the worker's loop; kill it if it does not go quietly."""
        self._close_stdin()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
        self._reap()

    def _reap(self) -> int:
        """Wait for the worker's exit; the reader threads close stdout and stderr at their end."""
        code = self.process.wait()
        self._close_stdin()
        return code

    def _close_stdin(self) -> None:
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass  # the worker is gone and the pipe broken: nothing left to flush


class FunctionRuntime:
    """A function's pool of execution environments, scaled on demand up to ``max_concurrency``."""

    def __init__(
        self,
        spec: FunctionSpec,
        env: Mapping[str, str],
        *,
        max_concurrency: int,
        log_sink: LogSink = stderr_sink,
        enforce_timeout: bool = True,
        reload: bool = True,
    ) -> None:
        self.spec = spec
        self.env = _worker_environment(env)
        self.max_concurrency = max(1, max_concurrency)
        self._log_sink = log_sink
        self._enforce_timeout = enforce_timeout
        self._watch_dirs = (spec.code_dir, *spec.layer_dirs)
        self._reload = reload
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._reserved = 0  # workers being started
        self._busy = 0
        self._stopping = False
        self._generation = 0
        self._fingerprint = _code_fingerprint(self._watch_dirs) if reload else None
        self._last_check = time.monotonic()
        self._prewarming = threading.Thread(target=self._prewarm, name=f"{spec.logical_id}:prewarm", daemon=True)
        self._executor = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix=spec.logical_id)
        self.cold_starts = 0
        self.init_error: Mapping[str, Any] | None = None  # of the latest cold start, if it failed

    @property
    def name(self) -> str:
        return self.spec.logical_id

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._busy

    def start(self) -> None:
        """Start a first environment in the background, so that import errors show at start-up."""
        self._prewarming.start()

    def wait_started(self, timeout: float = INIT_TIMEOUT_SECONDS) -> None:
        """Wait for the first environment (so the first request does not start another)."""
        self._prewarming.join(timeout)

    def _prewarm(self) -> None:
        with self._cond:
            if self._stopping or len(self._all) + self._reserved >= self.max_concurrency:
                return
            self._reserved += 1
        spawned = self._spawn()
        with self._cond:
            self._reserved -= 1
            if isinstance(spawned, _Worker):
                self._idle.append(spawned)
            self._cond.notify()

    def invoke(self, event: Any) -> InvocationResult:
        """Run the handler once (waiting for a free environment if all are busy)."""
        request_id = str(uuid.uuid4())
        acquired = self._acquire(request_id)
        if isinstance(acquired, InvocationResult):
            return acquired
        # Without enforcement (e.g. sitting in a debugger) the wait is unbounded.
        timeout = self.spec.timeout_seconds if self._enforce_timeout else None
        try:
            return acquired.invoke(request_id, event, timeout)
        finally:
            self._release(acquired)

    def submit(self, event: Any) -> Future[InvocationResult]:
        """Invoke in the background; the caller may stop waiting (API Gateway's 30 s) without killing it."""
        return self._executor.submit(self.invoke, event)

    def _acquire(self, request_id: str) -> _Worker | InvocationResult:
        with self._cond:
            self._check_reload()
            while True:
                if self._stopping:
                    return _failed(request_id, _STOPPING)
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive and worker.generation == self._generation:
                        self._busy += 1
                        return worker
                    self._discard(worker)
                if len(self._all) + self._reserved < self.max_concurrency:
                    self._reserved += 1
                    break
                self._cond.wait()
        spawned = self._spawn()
        with self._cond:
            self._reserved -= 1
            self._cond.notify()
            if isinstance(spawned, _Worker):
                self._busy += 1
                return spawned
            # Lambda fails the invocation with the init error; the next one tries a fresh init.
            return _failed(request_id, spawned)

    def _spawn(self) -> _Worker | Mapping[str, Any]:
        """A ready worker (registered in the pool), or the init error."""
        with self._cond:
            generation = self._generation
        try:
            worker = _Worker(self.spec, self.env, self._log_sink, generation)
        except OSError as error:
            self._log_sink(self.name, f"(devstack) cannot start a worker: {error}")
            return {"errorType": "Runtime.StartError", "errorMessage": str(error)}
        init_ms = worker.wait_ready(INIT_TIMEOUT_SECONDS)
        if not isinstance(init_ms, float):
            self._log_sink(self.name, f"(devstack) init failed: {init_ms['errorType']}: {init_ms['errorMessage']}")
            self.init_error = init_ms
            return init_ms
        self.init_error = None
        with self._cond:
            if self._stopping:
                threading.Thread(target=worker.close, daemon=True).start()
                return _STOPPING
            self.cold_starts += 1
            self._all.add(worker)
        self._log_sink(self.name, f"(devstack) cold start: init {init_ms:.0f} ms")
        return worker

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            self._busy -= 1
            if worker.alive and worker.generation == self._generation and not self._stopping:
                self._idle.append(worker)
            else:
                self._discard(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker) -> None:
        self._all.discard(worker)
        threading.Thread(target=worker.close, name=f"{self.name}:close", daemon=True).start()

    def _check_reload(self) -> None:
        """New code → new environments for the next invocations (busy ones finish first)."""
        if not self._reload or time.monotonic() - self._last_check < RELOAD_CHECK_INTERVAL:
            return
        self._last_check = time.monotonic()
        fingerprint = _code_fingerprint(self._watch_dirs)
        if fingerprint != self._fingerprint:
            self._fingerprint = fingerprint
            self._generation += 1
            self._log_sink(self.name, "(devstack) code changed: next invocations start fresh environments")

    def stop(self, timeout: float = STOP_GRACE_SECONDS) -> None:
        with self._cond:
            self._stopping = True
            deadline = time.monotonic() + timeout
            while self._busy and time.monotonic() < deadline:
                self._cond.wait(timeout=deadline - time.monotonic())
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        closing = [threading.Thread(target=w.close, args=(1.0,), daemon=True) for w in workers]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join(timeout=2.0)
        self._executor.shutdown(wait=False, cancel_futures=True)


def _failed(request_id: str, error: Mapping[str, Any]) -> InvocationResult:
    return InvocationResult(request_id, ok=False, error={**error, "requestId": request_id})


def _worker_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The function's environment plus what the worker process itself needs."""
    worker_env = dict(env)
    worker_env["PYTHONUNBUFFERED"] = "1"  # logs appear as they are written
    original = worker_env.get("PYTHONPATH")
    # devstack must be importable by the worker even without an installed package; the
    # worker takes this entry out again before loading the handler.
    worker_env["PYTHONPATH"] = os.pathsep.join(p for p in (_DEVSTACK_ROOT, original) if p)
    worker_env["DEVSTACK_WORKER_PATH"] = _DEVSTACK_ROOT
    if original:
        worker_env["DEVSTACK_ORIGINAL_PYTHONPATH"] = original
    return worker_env


def _code_fingerprint(directories: tuple[Path, ...]) -> tuple[int, int]:
    newest, count = 0, 0
    for directory in directories:
        for root, dirs, files in os.walk(directory):
            dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
            for name in files:
                if name.endswith(".py"):
                    try:
                        newest = max(newest, os.stat(os.path.join(root, name)).st_mtime_ns)
                        count += 1
                    except OSError:
                        continue
    return newest, count
