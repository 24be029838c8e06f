"""The one place that owns Logger, Tracer and Metrics for every function.

Tracing: the template turns on Lambda's active X-Ray tracing, which traces every
invocation (API Gateway → function, SQS → function) without any SDK in the function.
The X-Ray SDK behind powertools' Tracer adds subsegments per AWS and vendor call, but
importing it creates an X-Ray client at import time (a few hundred ms of every cold
start, measured by `make bench`), so it is opt-in: ``BRIDGE_XRAY_SDK=true``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

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


def _tracer() -> Any:
    if os.environ.get("BRIDGE_XRAY_SDK", "").lower() in {"1", "true", "yes"}:
        from aws_lambda_powertools import Tracer

        return Tracer(service=SERVICE)
    return _LambdaTracingOnly()


tracer = _tracer()
