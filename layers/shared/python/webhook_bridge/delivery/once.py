"""Exactly once per (vendor, action): powertools idempotency around the vendor call.

The record is completed only after the vendor accepted the call; a failure deletes it
so the retry calls again. Loops' Idempotency-Key and Customer.io's event id cover the
gap between a vendor's success and our record (e.g. the function dying in between).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from webhook_bridge.actions import VendorMessage
from webhook_bridge.delivery.processor import AlreadyInProgress
from webhook_bridge.delivery_log import DeliveryLog

VendorCall = Callable[[VendorMessage], None]


class IdempotentDelivery:
    """``deliver(message) -> bool``: True when the vendor was called, False for a replay."""

    def __init__(
        self,
        call: VendorCall,
        table_name: str,
        ttl_seconds: int,
        client: Any | None = None,
        key_prefix: str = "delivery",
    ) -> None:
        self._config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=ttl_seconds)
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)

        # Keys are "<key_prefix>#<hash>": the prefix is what the role's dynamodb:LeadingKeys allows.
        @idempotent_function(
            data_keyword_argument="key_data",
            config=self._config,
            persistence_store=persistence,
            key_prefix=key_prefix,
        )
        def deliver(key_data: dict[str, str], message: VendorMessage, called: list[bool]) -> dict[str, Any]:
            call(message)
            called.append(True)
            return {"delivered": True}

        self._deliver = deliver
        self._log = DeliveryLog(table_name, client)  # for `bridgectl trace`, beside the idempotency records

    def register_lambda_context(self, context: Any) -> None:
        """In-progress records then expire with the invocation, so a crash does not block retries."""
        self._config.register_lambda_context(context)

    def __call__(self, message: VendorMessage) -> bool:
        called: list[bool] = []
        try:
            self._deliver(key_data={"key": message.dedupe_key}, message=message, called=called)
        except IdempotencyAlreadyInProgressError as exc:
            raise AlreadyInProgress(message.dedupe_key) from exc
        if called:
            self._log.delivered(message)
        return bool(called)
