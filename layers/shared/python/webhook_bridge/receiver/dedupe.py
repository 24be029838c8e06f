"""Provider retries are deduplicated on the event id with powertools idempotency (DynamoDB).

The record is written before the work and completed after SQS accepted every
message; a failure deletes it, so the provider's retry runs the work again.
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

from webhook_bridge.delivery_log import DeliveryLog
from webhook_bridge.receiver.errors import EventInProgressError


class EventDeduplicator:
    def __init__(
        self,
        table_name: str,
        ttl_seconds: int,
        provider: str,
        client: Any | None = None,
        log: DeliveryLog | None = None,
    ) -> None:
        config = IdempotencyConfig(
            event_key_jmespath="event_id",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=ttl_seconds,
        )
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)

        # The provider name is part of the key so Stripe and Typeform ids can never collide; the
        # fixed prefix is what the role's dynamodb:LeadingKeys condition allows (template.yaml).
        @idempotent_function(
            data_keyword_argument="key",
            config=config,
            persistence_store=persistence,
            key_prefix=f"receiver#{provider}",
        )
        def run_once(key: dict[str, str], process: Callable[[], dict[str, Any]]) -> dict[str, Any]:
            return process()

        self._run_once = run_once
        self._provider = provider
        self._log = log
        self._config = config

    def register_lambda_context(self, context: Any) -> None:
        """In-progress records then expire with the invocation, so a crash cannot block the retry."""
        self._config.register_lambda_context(context)

    def __call__(self, event_id: str, process: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        processed: list[bool] = []

        def first_time() -> dict[str, Any]:
            processed.append(True)
            return process()

        try:
            result: dict[str, Any] = self._run_once(
                key={"event_id": f"{self._provider}:{event_id}"}, process=first_time
            )
        except IdempotencyAlreadyInProgressError as exc:
            raise EventInProgressError("this event is being processed; retry later") from exc
        if not processed and self._log is not None:
            self._log.duplicate(self._provider, event_id)
        return result
