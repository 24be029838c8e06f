"""Run a piece of work once per key: powertools idempotency on the DynamoDB idempotency table.

Both guarantees use it: the receivers run an event once per provider event id
(``receiver/dedupe.py``), the delivery functions call a vendor once per action
(``delivery/once.py``). The record is written before the work and completed with its
result after it; a failure deletes it, so a retry runs the work again. Keys are
``<key_prefix>#<hash>``: the prefix is what each role's ``dynamodb:LeadingKeys`` allows
(template.yaml).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

Work = Callable[[], dict[str, Any]]
RECORD_KEY_ATTRIBUTE = "id"  # the idempotency table's partition key (template.yaml)
RECORD_COMPLETED = "COMPLETED"  # the status powertools gives a record whose work returned


def record_id(key_prefix: str, key: str) -> str:
    """The key of ``key``'s record: powertools hashes the value ``event_key_jmespath`` selects
    (the key, a string) as sorted JSON with MD5, behind the prefix. Readers that know the key
    (``bridgectl trace``) read the record by its key instead of a log of their own;
    ``tests/unit/test_idempotency.py`` holds this to what powertools writes."""
    digest = hashlib.md5(json.dumps(key, sort_keys=True).encode(), usedforsecurity=False).hexdigest()
    return f"{key_prefix}#{digest}"


class RunOnce:
    """``run_once(key, work) -> (result, ran)``; ``ran`` is False when an earlier result was replayed.

    Raises powertools' ``IdempotencyAlreadyInProgressError`` while another call holds the key.
    """

    def __init__(self, table_name: str, ttl_seconds: int, key_prefix: str, client: Any | None = None) -> None:
        self._config = IdempotencyConfig(
            event_key_jmespath="key", raise_on_no_idempotency_key=True, expires_after_seconds=ttl_seconds
        )
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)

        @idempotent_function(
            data_keyword_argument="key_data", config=self._config, persistence_store=persistence, key_prefix=key_prefix
        )
        def run(key_data: dict[str, str], work: Work) -> dict[str, Any]:
            return work()

        self._run = run

    def register_lambda_context(self, context: Any) -> None:
        """In-progress records then expire with the invocation, so a crash cannot block the retry."""
        self._config.register_lambda_context(context)

    def __call__(self, key: str, work: Work) -> tuple[dict[str, Any], bool]:
        ran: list[bool] = []

        def first_time() -> dict[str, Any]:
            ran.append(True)
            return work()

        result: dict[str, Any] = self._run(key_data={"key": key}, work=first_time)
        return result, bool(ran)
