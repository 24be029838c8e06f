"""DynamoDB applies a conditional write atomically, and reads an item whole; moto checks the
condition and writes in separate Python steps, so two concurrent requests could both pass
one condition, and it copies an item for a read while another thread may be changing it
("dictionary changed size during iteration").

The bridge relies on that atomicity (idempotency records, the ordering ledger, the identity
store), and its tests race deliveries on purpose: one lock around moto's DynamoDB requests
makes the emulation as strict as the service. Used by the dev stack's moto server and by
the in-process ``mock_aws`` of the tests.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_REQUESTS = (
    *("put_item", "update_item", "delete_item", "transact_write_items"),
    *("get_item", "batch_get_item", "transact_get_items", "query", "scan"),
)
_lock = threading.RLock()  # re-entrant: a transaction's parts are requests too


def make_dynamodb_requests_atomic() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name in _REQUESTS:
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "atomic", False):
            continue  # already wrapped (idempotent, e.g. imported twice)
        setattr(DynamoDBBackend, name, _locked(original))


def _locked(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return write(*args, **kwargs)

    locked.atomic = True  # type: ignore[attr-defined]
    return locked
