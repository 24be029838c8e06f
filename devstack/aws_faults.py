"""Injected AWS failures in front of moto, so tests can make DynamoDB throttle or Secrets Manager fail.

A WSGI middleware inside the moto process. ``POST /_devstack/faults`` with
``{"target": "DynamoDB_20120810.PutItem", "code": "ProvisionedThroughputExceededException",
"status": 400, "count": 2, "body_contains": "delivery#loops#"}`` makes the next ``count``
matching requests fail as AWS would answer them (JSON-protocol services: DynamoDB, Secrets
Manager, SQS). ``body_contains`` narrows a fault to one caller's requests (a key prefix, a
secret id). ``DELETE /_devstack/faults`` clears them; ``GET`` lists those pending.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

FAULTS_PATH = "/_devstack/faults"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass
class AwsFault:
    target: str  # the X-Amz-Target header: "<service prefix>.<operation>"
    code: str  # the AWS error code, e.g. ThrottlingException
    status: int = 400
    count: int = 1
    body_contains: str = ""

    @classmethod
    def from_spec(cls, spec: Any) -> AwsFault:
        if not isinstance(spec, dict) or not all(isinstance(spec.get(key), str) for key in ("target", "code")):
            raise ValueError("a fault needs 'target' and 'code' strings")
        fault = cls(**{key: spec[key] for key in ("target", "code", "status", "count", "body_contains") if key in spec})
        if not (isinstance(fault.count, int) and fault.count >= 1 and isinstance(fault.status, int)):
            raise ValueError("'count' must be an integer >= 1 and 'status' an integer")
        return fault


class AwsFaults:
    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._pending: list[AwsFault] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == FAULTS_PATH:
            return self._control(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target and self._pending:
            body = _read_body(environ)
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
            fault = self._take(target, body.decode("utf-8", "replace"))
            if fault is not None:
                error = {"__type": fault.code, "message": f"devstack: injected {fault.code}"}
                return _respond(start_response, fault.status, error, "application/x-amz-json-1.0")
        return self._app(environ, start_response)

    def _take(self, target: str, body: str) -> AwsFault | None:
        with self._lock:
            for fault in self._pending:
                if fault.target == target and fault.body_contains in body:
                    fault.count -= 1
                    if fault.count == 0:
                        self._pending.remove(fault)
                    return fault
        return None

    def _control(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        with self._lock:
            if method == "POST":
                try:
                    self._pending.append(AwsFault.from_spec(json.loads(_read_body(environ) or b"null")))
                except (ValueError, TypeError) as error:
                    return _respond(start_response, 400, {"error": str(error)})
            elif method == "DELETE":
                self._pending.clear()
            return _respond(start_response, 200, {"pending": [asdict(fault) for fault in self._pending]})


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def _respond(
    start_response: StartResponse, status: int, payload: Any, content_type: str = "application/json"
) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(f"{status} devstack", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
