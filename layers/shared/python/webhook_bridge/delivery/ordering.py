"""Stale-state protection: per vendor and ordering key, only newer versions are delivered.

Stripe sends subscription events at least once and in no guaranteed order, and our own
retries reorder them further. The newest delivered version per (vendor, key) lives in
the state table; an older (or equal, after a terminal state) version is skipped.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from webhook_bridge.actions import Action
from webhook_bridge.vendors_enum import Vendor


class OrderingGuard:
    def __init__(self, table_name: str, client: Any, ttl_seconds: int = 90 * 24 * 3600) -> None:
        self._table = table_name
        self._ddb = client
        self._ttl = ttl_seconds

    @staticmethod
    def _key(vendor: Vendor, action: Action) -> dict[str, Any]:
        return {"pk": {"S": f"order#{vendor.value}#{action.ordering_key}"}}

    def is_stale(self, vendor: Vendor, action: Action) -> bool:
        if action.ordering_key is None or action.ordering_version is None:
            return False
        item = self._ddb.get_item(TableName=self._table, Key=self._key(vendor, action), ConsistentRead=True).get("Item")
        if not item:
            return False
        newest = int(item["version"]["N"])
        if item.get("terminal", {}).get("BOOL"):
            return True
        return action.ordering_version < newest

    def record(self, vendor: Vendor, action: Action) -> None:
        """Remember this version unless a newer one got there first (conditional write)."""
        if action.ordering_key is None or action.ordering_version is None:
            return
        # A failed condition means a newer state is already recorded; ours was delivered but is not the latest.
        with contextlib.suppress(self._ddb.exceptions.ConditionalCheckFailedException):
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    **self._key(vendor, action),
                    "version": {"N": str(action.ordering_version)},
                    "terminal": {"BOOL": action.ordering_terminal},
                    "expires_at": {"N": str(int(time.time()) + self._ttl)},
                },
                ConditionExpression="attribute_not_exists(pk) OR (version < :v AND terminal = :f)",
                ExpressionAttributeValues={":v": {"N": str(action.ordering_version)}, ":f": {"BOOL": False}},
            )
