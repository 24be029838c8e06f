"""One Lambda execution environment: ``python -m devstack.worker '<spec json>'``.

The parent (``devstack.functions``) starts one of these per concurrent execution of
a function, with exactly that function's environment, and sends it one invocation
at a time, as Lambda does. The protocol is one JSON document per line on a private
copy of stdin/stdout; the handler's own stdout is redirected to stderr, which the
parent prefixes with the function name, so a ``print`` can never corrupt the
protocol.

Only the standard library is imported before the handler: the handler's cold start
must see its own environment, not state left by devstack.
"""

from __future__ import annotations

import decimal
import json
import os
import re
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import IO, Any

from devstack.support.handlers import import_by_path
from devstack.support.lambda_context import LambdaContext


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    # Ctrl-C in the terminal is for the parent, which stops us in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    protocol_in = os.fdopen(os.dup(0), "rb")
    protocol_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # print() in a handler goes to the log, never into the protocol
    _restore_python_path()

    started = time.perf_counter()
    try:
        handler = _load_handler(spec)
    except BaseException as error:
        _log_exception(error)
        _send(protocol_out, {"type": "init_error", "error": _init_error(error, spec)})
        return 1
    _send(protocol_out, {"type": "ready", "init_ms": (time.perf_counter() - started) * 1000})

    for line in protocol_in:
        request = json.loads(line)
        _send(protocol_out, _invoke(handler, request, spec))
    # stdin closed: the parent is stopping (or gone). Lambda freezes and discards an
    # environment without running interpreter teardown; exiting at once does the same
    # and does not wait for threads a handler left behind.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _restore_python_path() -> None:
    """Drop the entry the parent added so that ``devstack`` is importable; the handler sees Lambda's path."""
    added = os.environ.pop("DEVSTACK_WORKER_PATH", None)
    original = os.environ.pop("DEVSTACK_ORIGINAL_PYTHONPATH", None)
    if added:
        if added in sys.path:
            sys.path.remove(added)
        if original:
            os.environ["PYTHONPATH"] = original
        else:
            os.environ.pop("PYTHONPATH", None)


def _load_handler(spec: dict[str, Any]) -> Any:
    code_dir = Path(spec["code_dir"])
    # Lambda puts the code at /var/task (first on sys.path) and layers' python/ under /opt.
    for layer in reversed(spec.get("layer_dirs", [])):
        python_dir = Path(layer) / "python"
        if python_dir.is_dir():
            sys.path.insert(0, str(python_dir))
    sys.path.insert(0, str(code_dir))
    module_path, _, attribute = spec["handler"].rpartition(".")
    if not module_path or not attribute:
        raise _HandlerNotFound(f"Bad handler '{spec['handler']}': not enough values to unpack")
    file = code_dir / (module_path.replace(".", "/") + ".py")
    if not file.is_file():
        raise ModuleNotFoundError(f"No module named '{module_path}'")
    # e.g. fn_stripe_webhook_app: unique per code directory, as separate Lambdas hold them.
    module = import_by_path(re.sub(r"\W", "_", f"fn_{code_dir.name}_{module_path}"), file)
    handler = getattr(module, attribute, None)
    if handler is None:
        raise _HandlerNotFound(f"Handler '{attribute}' missing on module '{module_path}'")
    return handler


def _invoke(handler: Any, request: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    request_id = request["request_id"]
    context = LambdaContext(
        spec["function_name"],
        memory_limit_in_mb=str(spec["memory_mb"]),
        invoked_function_arn=spec["function_arn"],
        aws_request_id=request_id,
        deadline_ms=request["deadline_ms"],
    )
    try:
        result = handler(request["event"], context)
    except BaseException as error:
        _log_exception(error)
        return {"type": "result", "id": request_id, "ok": False, "error": _error_payload(error)}
    try:
        payload = json.dumps(result, default=_decimal_serializer)
    except (TypeError, ValueError) as error:
        # Lambda's runtime reports an unserialisable result as a marshalling error.
        message = f"Unable to marshal response: {error}"
        sys.stderr.write(f"[ERROR] Runtime.MarshalError: {message}\n")
        error_body = {"errorMessage": message, "errorType": "Runtime.MarshalError", "stackTrace": []}
        return {"type": "result", "id": request_id, "ok": False, "error": error_body}
    return {"type": "result", "id": request_id, "ok": True, "payload": payload}


def _error_payload(error: BaseException) -> dict[str, Any]:
    """Lambda's error document for an exception raised by a handler."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def _decimal_serializer(value: Any) -> Any:
    # The Python runtime serialises Decimal (what boto3 returns for DynamoDB numbers).
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class _HandlerNotFound(Exception):
    pass


def _init_error(error: BaseException, spec: dict[str, Any]) -> dict[str, Any]:
    """The error types Lambda's Python runtime reports for a failed init."""
    payload = _error_payload(error)
    module = spec["handler"].rpartition(".")[0]
    if isinstance(error, _HandlerNotFound):
        payload.update(errorType="Runtime.HandlerNotFound", errorMessage=str(error))
    elif isinstance(error, SyntaxError):
        payload.update(
            errorType="Runtime.UserCodeSyntaxError", errorMessage=f"Syntax error in module '{module}': {error}"
        )
    elif isinstance(error, ImportError):
        payload.update(
            errorType="Runtime.ImportModuleError", errorMessage=f"Unable to import module '{module}': {error}"
        )
    return payload


def _log_exception(error: BaseException) -> None:
    # Lambda logs "[ERROR] Type: message" followed by the traceback.
    sys.stderr.write(f"[ERROR] {type(error).__name__}: {error}\n")
    traceback.print_exception(error, file=sys.stderr)
    sys.stderr.flush()


def _send(stream: IO[bytes], message: dict[str, Any]) -> None:
    stream.write(json.dumps(message).encode() + b"\n")
    stream.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
