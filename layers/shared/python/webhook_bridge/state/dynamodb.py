"""DynamoDB-backed stores on the state table (partition key ``pk``, TTL attribute ``expires_at``).

Each store takes a low-level DynamoDB client, or creates the process-wide one lazily on
first use, so importing this module costs nothing at cold start. Keys are prefixed so the
stores share the table with the delivery side's ordering records (``order#…``).
Calls per webhook stay few: one conditional ``PutItem`` per remembered fact, one
``GetItem`` per lookup, and lookups only happen when the event lacks the fact.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from functools import cache
from typing import Any

from webhook_bridge.settings import aws_region
from webhook_bridge.state.base import (
    IDENTITY_TTL_SECONDS,
    INVOICE_TTL_SECONDS,
    Held,
    HeldDispute,
    HeldRefund,
    RememberedInvoice,
)

_BATCH_ATTEMPTS = 4
_DISPUTE_PREFIX = "dispute_"  # one attribute per held dispute: dispute_<event id>


@cache
def dynamodb_client() -> Any:
    """One client per process. Lambda sets ``AWS_REGION``; ``AWS_ENDPOINT_URL`` (moto, local) is honoured by boto3."""
    import boto3  # lazy: only functions that touch the state table pay for it

    return boto3.client("dynamodb", region_name=aws_region())


@contextlib.contextmanager
def unless_condition_fails() -> Iterator[None]:
    """Ignore a refused ``ConditionExpression``, and nothing else.

    Recognised by its error code, not by ``client.exceptions.ConditionalCheckFailedException``:
    botocore builds that class lazily per client, and threads racing at its first use can
    each get a class of their own, so the one raised would not be the one caught."""
    try:
        yield
    except Exception as error:
        if not _condition_refused(error):
            raise


def _condition_refused(error: Exception) -> bool:
    response = getattr(error, "response", None)
    return isinstance(response, dict) and response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def update_returning_item(client: Any, **request: Any) -> dict[str, Any] | None:
    """``UpdateItem`` that answers with the item as it stands after: as written, or, when its
    condition refused the write, as it was (``ReturnValuesOnConditionCheckFailure``). The
    caller learns the item's state from its write, without a read of its own; None when the
    refused item does not exist."""
    try:
        response = client.update_item(ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD", **request)
    except Exception as error:
        if not _condition_refused(error):
            raise
        refused: dict[str, Any] | None = getattr(error, "response", {}).get("Item")
        return refused
    written: dict[str, Any] = response["Attributes"]
    return written


class _DynamoStore:
    def __init__(self, table_name: str, client: Any | None = None, ttl_seconds: int = INVOICE_TTL_SECONDS) -> None:
        self.table_name = table_name
        self._client = client
        self._ttl = ttl_seconds

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = dynamodb_client()
        return self._client

    def _expires_at(self) -> dict[str, str]:
        return {"N": str(int(time.time()) + self._ttl)}

    def _get(self, pk: str) -> dict[str, Any] | None:
        # Strongly consistent: customer.created and the subscription events that need its
        # email arrive within milliseconds of each other.
        response = self.client.get_item(TableName=self.table_name, Key={"pk": {"S": pk}}, ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item


class DynamoIdentityStore(_DynamoStore):
    def __init__(self, table_name: str, client: Any | None = None, ttl_seconds: int = IDENTITY_TTL_SECONDS) -> None:
        super().__init__(table_name, client, ttl_seconds)

    @staticmethod
    def _pk(customer_id: str) -> str:
        return f"identity#stripe-customer#{customer_id}"

    def remember(self, customer_id: str, email: str, version: str) -> None:
        self._put(customer_id, {"email": {"S": email}}, version)

    def forget(self, customer_id: str, version: str) -> None:
        # A put without the email replaces the whole item: nothing of it is left but the version.
        self._put(customer_id, {}, version)

    def _put(self, customer_id: str, fields: dict[str, Any], version: str) -> None:
        # Events arrive out of order: an older event must not undo a newer email change.
        # ``<=`` so that a redelivered event refreshes the TTL.
        with unless_condition_fails():  # a newer one is known
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "pk": {"S": self._pk(customer_id)},
                    **fields,
                    "email_version": {"S": version},
                    "expires_at": self._expires_at(),
                },
                ConditionExpression="attribute_not_exists(email_version) OR email_version <= :version",
                ExpressionAttributeValues={":version": {"S": version}},
            )

    def lookup(self, customer_id: str) -> str | None:
        item = self._get(self._pk(customer_id))
        return item["email"]["S"] if item and "email" in item else None

    def forgotten(self, customer_id: str) -> bool:
        item = self._get(self._pk(customer_id))
        return item is not None and "email" not in item


class DynamoInvoiceMemory(_DynamoStore):
    @staticmethod
    def _invoice_pk(invoice_id: str) -> str:
        return f"invoice#stripe#{invoice_id}"

    @staticmethod
    def _payment_pk(payment_intent_id: str) -> str:
        return f"invoice-payment#stripe#{payment_intent_id}"

    def _link_item(self, payment_intent_id: str, invoice_id: str) -> dict[str, Any]:
        return {
            "pk": {"S": self._payment_pk(payment_intent_id)},
            "invoice_id": {"S": invoice_id},
            "expires_at": self._expires_at(),
        }

    def remember(self, record: RememberedInvoice, payment_intent_id: str | None = None) -> None:
        items = [
            {
                "pk": {"S": self._invoice_pk(record.invoice.id)},
                "record": {"S": record.model_dump_json()},
                "expires_at": self._expires_at(),
            }
        ]
        if payment_intent_id:
            items.append(self._link_item(payment_intent_id, record.invoice.id))
        self._write_all(items)

    def link_payment(self, payment_intent_id: str, invoice_id: str) -> None:
        self.client.put_item(TableName=self.table_name, Item=self._link_item(payment_intent_id, invoice_id))

    def by_invoice_id(self, invoice_id: str) -> RememberedInvoice | None:
        item = self._get(self._invoice_pk(invoice_id))
        if not item or "record" not in item:
            return None
        return RememberedInvoice.model_validate_json(item["record"]["S"])

    def by_payment_intent(self, payment_intent_id: str) -> RememberedInvoice | None:
        invoice_id = self.linked_invoice(payment_intent_id)
        return self.by_invoice_id(invoice_id) if invoice_id else None

    def linked_invoice(self, payment_intent_id: str) -> str | None:
        link = self._get(self._payment_pk(payment_intent_id))
        return link["invoice_id"]["S"] if link and "invoice_id" in link else None

    @staticmethod
    def _held_pks(payment_intent_id: str | None, invoice_id: str | None) -> list[str]:
        keys = [f"held#stripe-payment#{payment_intent_id}" if payment_intent_id else None]
        keys.append(f"held#stripe-invoice#{invoice_id}" if invoice_id else None)
        return [key for key in keys if key]

    def hold(self, held: HeldRefund | HeldDispute, payment_intent_id: str | None, invoice_id: str | None) -> None:
        values = {":held": {"S": held.model_dump_json()}, ":expires": self._expires_at()}
        if isinstance(held, HeldRefund):
            # Only the newest refund is kept; ``<=`` so that a redelivered one refreshes the TTL.
            request: dict[str, Any] = {
                "UpdateExpression": "SET refund = :held, refund_version = :version, expires_at = :expires",
                "ConditionExpression": "attribute_not_exists(refund_version) OR refund_version <= :version",
                "ExpressionAttributeValues": {**values, ":version": {"S": held.version}},
            }
        else:
            request = {
                "UpdateExpression": "SET #dispute = :held, expires_at = :expires",
                "ExpressionAttributeNames": {"#dispute": _DISPUTE_PREFIX + held.event_id},
                "ExpressionAttributeValues": values,
            }
        for pk in self._held_pks(payment_intent_id, invoice_id):
            with unless_condition_fails():  # a newer refund is held
                self.client.update_item(TableName=self.table_name, Key={"pk": {"S": pk}}, **request)

    def held(self, payment_intent_id: str | None, invoice_id: str | None) -> Held:
        found = Held()
        for pk in self._held_pks(payment_intent_id, invoice_id):
            item = self._get(pk) or {}
            refund = HeldRefund.model_validate_json(item["refund"]["S"]) if "refund" in item else None
            disputes = tuple(
                HeldDispute.model_validate_json(value["S"])
                for name, value in item.items()
                if name.startswith(_DISPUTE_PREFIX)
            )
            found = found.merge(Held(refund=refund, disputes=disputes))
        return found

    def _write_all(self, items: list[dict[str, Any]]) -> None:
        """One ``BatchWriteItem`` call; leftovers (throttling) are retried a few times, then raised."""
        requests = [{"PutRequest": {"Item": item}} for item in items]
        for _ in range(_BATCH_ATTEMPTS):
            response = self.client.batch_write_item(RequestItems={self.table_name: requests})
            requests = response.get("UnprocessedItems", {}).get(self.table_name, [])
            if not requests:
                return
        raise RuntimeError(f"DynamoDB left {len(requests)} invoice memory writes unprocessed")
