"""The one place that owns Logger, Tracer and Metrics for every function.

Tracing: the template turns on Lambda's active X-Ray tracing, which traces every
invocation (API Gateway → function, SQS → function) without any SDK in the function.
The X-Ray SDK behind powertools' Tracer adds subsegments per AWS and vendor call, but
importing it creates an X-Ray client at import time (a few hundred ms of every cold
start, measured by `make bench`), so it is opt-in: ``BRIDGE_XRAY_SDK=true``.

The SDK patches botocore only. Its httpx patch would record every vendor call's URL, whose
path can hold an email (Customer.io's ``/customers/{id}``): :func:`vendor_call` records the
route template instead.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics

from webhook_bridge.settings import xray_sdk_enabled

SERVICE = "webhook-bridge"
NAMESPACE = "WebhookBridge"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


class _LambdaTracingOnly:
    """Stands in for powertools' Tracer when the SDK is off: the handler runs untouched."""

    def capture_lambda_handler(self, *args: Any, **kwargs: Any) -> Any:
        if args and callable(args[0]):
            return args[0]

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            return handler

        return decorate


PATCHED_MODULES = ("botocore",)


def _tracer() -> Any:
    if xray_sdk_enabled():
        from aws_lambda_powertools import Tracer

        return Tracer(service=SERVICE, patch_modules=PATCHED_MODULES)
    return _LambdaTracingOnly()


tracer = _tracer()


@contextmanager
def vendor_call(vendor: str, method: str, route: str) -> Iterator[Callable[[int], None]]:
    """One vendor request's subsegment, named by the vendor, with ``route`` the documented
    template (never the URL); yields a function that records the response status.

    A failure marks it as a fault without its exception: exception texts can repeat the request."""
    if isinstance(tracer, _LambdaTracingOnly):
        yield lambda status: None
        return
    subsegment = tracer.provider.begin_subsegment(name=vendor, namespace="remote")
    if subsegment is None:  # not sampled, or no segment to hang it on
        yield lambda status: None
        return
    subsegment.put_http_meta("method", method)
    subsegment.put_http_meta("url", route)
    try:
        yield lambda status: subsegment.put_http_meta("status", status)
    except BaseException:
        subsegment.add_fault_flag()
        raise
    finally:
        tracer.provider.end_subsegment()


def aws_error_code(error: BaseException) -> str | None:
    """The AWS error code in ``error`` or the exceptions it was raised from (powertools wraps them)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        if isinstance(response, dict):
            code = (response.get("Error") or {}).get("Code")
            if isinstance(code, str) and code:
                return code
        if type(current).__module__.startswith("botocore"):
            return type(current).__name__  # e.g. EndpointConnectionError, ReadTimeoutError
        current = current.__cause__ or current.__context__
    return None


def error_fields(error: BaseException) -> dict[str, Any]:
    """What a log line may say about an exception: its class, AWS error code and stack frames.

    Never its message: exception texts (pydantic's, vendors', botocore's) can repeat input
    values, i.e. emails and names."""
    return {
        "exception_name": type(error).__name__,
        "aws_error_code": aws_error_code(error),
        "stack": "".join(traceback.format_tb(error.__traceback__)),
    }
