"""The context object Lambda's Python runtime passes to handlers."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_TIMEOUT_MS = 30_000


class LambdaContext:
    """What a handler may read. Idempotency needs the remaining time: an in-progress record
    expires with the invocation, which is what lets a retry run after a crash."""

    def __init__(
        self,
        function_name: str = "test-function",
        *,
        memory_limit_in_mb: str = "512",
        invoked_function_arn: str | None = None,
        aws_request_id: str | None = None,
        deadline_ms: float | None = None,
        remaining_ms: int = DEFAULT_TIMEOUT_MS,
        function_version: str = "$LATEST",
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = (
            invoked_function_arn or f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        )
        # A string, as in Lambda's runtime (it comes from AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[{function_version}]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        # Without a deadline, every invocation starts with ``remaining_ms`` ahead of it.
        self._deadline_ms = deadline_ms
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        if self._deadline_ms is None:
            return self._remaining_ms
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(function_name={self.function_name!r}, aws_request_id={self.aws_request_id!r})"
