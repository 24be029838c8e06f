"""Stale-state protection: per vendor and ordering key, only newer versions set state.

Stripe sends subscription events at least once and in no guaranteed order, and our own
retries reorder them further. Before a vendor call, the action *claims* its version for
(vendor, key) with a conditional write in the state table; the claim fails when a newer
version (or a terminal one, e.g. a deleted subscription) is already there. A retry of the
same action re-claims its own version and passes.
"""

from __future__ import annotations

import time
from typing import Any

from webhook_bridge.actions import Action
from webhook_bridge.vendors_enum import Vendor


class OrderingGuard:
    def __init__(self, table_name: str, client: Any, ttl_seconds: int = 90 * 24 * 3600) -> None:
        self._table = table_name
        self._ddb = client
        self._ttl = ttl_seconds

    def claim(self, vendor: Vendor, action: Action) -> bool:
        """True when this action's state may be sent; False when a newer state got there first."""
        if action.ordering_key is None or action.ordering_version is None:
            return True
        version = {"N": str(action.ordering_version)}
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"order#{vendor.value}#{action.ordering_key}"},
                    "version": version,
                    "terminal": {"BOOL": action.ordering_terminal},
                    "expires_at": {"N": str(int(time.time()) + self._ttl)},
                },
                ConditionExpression="attribute_not_exists(pk) OR version = :v OR (terminal = :f AND version < :v)",
                ExpressionAttributeValues={":v": version, ":f": {"BOOL": False}},
            )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True
