"""SegMetrics import API v1, mounted as /segmetrics/api/v1/{account}/{integration}/..."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.sandbox.clock import Clock
from devstack.sandbox.config import SandboxCredentials
from devstack.sandbox.vendors.base import Refused, VendorService
from devstack.sandbox.vendors.segmetrics_data import SegMetricsData, id_text, iso, now_iso, parse_when
from devstack.sandbox.wire import is_int, json_response, non_empty_string, present

BILLING_CYCLES = ("year", "month", "week", "day")
CONTACT_STATUSES = ("active", "inactive")
REFUNDED_FLAGS = (0, 1, False, True)  # "Invoice Refunded Flag": the example sends 0
# The contact's attribution fields, as the document lists them (the sandbox knows the vendor
# from its document, not from the bridge, so that it can catch the bridge's mistakes).
ATTRIBUTION_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "referring_url",
    "optin_url",
    "ip_address",
)
# Each body's fields, as the document lists them: a strict reading refuses any other.
IDENTITY_FIELDS = ("contact_id", "email")
CONTACT_FIELDS = (
    *IDENTITY_FIELDS,
    *("first_name", "last_name", "status", "tags", "custom_fields", "date_created", "last_updated"),
    *ATTRIBUTION_FIELDS,
    *("affiliate_id", "geo_lat", "geo_lon"),
)
TAG_CHANGE_FIELDS = (*IDENTITY_FIELDS, "tags")
INVOICE_FIELDS = (
    *("id", *IDENTITY_FIELDS, "amount", "paid", "date_created", "items"),
    *("is_refunded", "discount", "tax", "shipping"),
)
ITEM_FIELDS = ("id", "name", "product_id", "amount", "subscription_id", "total_paid")  # total_paid: the example
SUBSCRIPTION_FIELDS = (
    *("id", *IDENTITY_FIELDS, "amount", "product_id", "start_date", "last_bill_date", "billing_cycle", "frequency"),
    *("name", "quantity", "trial_end_date", "end_date", "canceled_date"),
)
# Tag objects: "id", "name" and, where a tag is applied (/contact, /tags/add), "date".
APPLIED_TAG_FIELDS = ("id", "name", "date")
REMOVED_TAG_FIELDS = ("id", "name")


class Checks:
    """Collects every problem of a body, in SegMetrics' "missing 'id' field" wording."""

    def __init__(self, body: dict[str, Any], prefix: str = "") -> None:
        self.body = body
        self.prefix = prefix
        self.errors: list[str] = []

    def _each(self, fields: Iterable[str], valid: Callable[[Any], bool], problem: str, given: Any = present) -> None:
        """Note ``problem``, naming the field, for each ``given`` field whose value is not ``valid``."""
        for field in fields:
            value = self.body.get(field)
            if given(value) and not valid(value):
                self.errors.append(problem.format(f"{self.prefix}{field}"))

    def require(self, *fields: str) -> None:
        self._each(fields, present, "missing '{}' field", given=lambda _: True)

    def identity(self) -> None:
        if not present(self.body.get("contact_id")) and not present(self.body.get("email")):
            self.errors.append("missing 'contact_id' or 'email' field")
        self._each(["email"], lambda email: isinstance(email, str) and "@" in email, "invalid '{}' field")

    def cents(self, *fields: str) -> None:
        """Amounts are "in Cents": whole numbers, so 45.5 or "4500" is a caller's bug."""
        self._each(fields, is_int, "'{}' must be an integer number of cents", given=_not_none)

    def integer(self, *fields: str, minimum: int = 0) -> None:
        """A count on the wire: 3, never "3" or 3.0."""
        self._each(fields, lambda value: is_int(value) and value >= minimum, f"'{{}}' must be an integer >= {minimum}")

    def known(self, fields: tuple[str, ...]) -> None:
        self.errors.extend(f"unknown field '{self.prefix}{key}'" for key in self.body if key not in fields)

    def date(self, *fields: str) -> None:
        self._each(fields, lambda value: parse_when(value) is not None, "'{}' is not a valid date")

    def future(self, field: str, now: datetime) -> None:
        def valid(value: Any) -> bool:
            when = parse_when(value)
            return when is None or when > now

        self._each([field], valid, "'{}' must be a date in the future")

    def text(self, *fields: str) -> None:
        self._each(fields, non_empty_string, "'{}' must be a non-empty string", given=_not_none)

    def one_of(self, field: str, options: tuple[Any, ...]) -> None:
        names = ", ".join(o if isinstance(o, str) else json.dumps(o) for o in options)
        # Type and value: 1.0 == True == 1 in Python, not on the wire.
        self._each(
            [field],
            lambda value: any(type(value) is type(o) and value == o for o in options),
            f"'{{}}' must be one of {names}",
        )

    def kind(self, field: str, expected: type, label: str) -> None:
        self._each([field], lambda value: isinstance(value, expected), f"'{{}}' must be {label}", given=_not_none)

    # --- each endpoint's rules ----------------------------------------------------------

    def contact(self) -> None:
        self.known(CONTACT_FIELDS)
        self.identity()
        self.one_of("status", CONTACT_STATUSES)
        self.date("date_created", "last_updated")
        self.kind("custom_fields", dict, "an object")
        self.text(*ATTRIBUTION_FIELDS)
        self.tags(required=False, names=False, fields=APPLIED_TAG_FIELDS)

    def tags_added(self) -> None:
        self.known(TAG_CHANGE_FIELDS)
        self.identity()
        self.tags(required=True, names=True, fields=APPLIED_TAG_FIELDS)

    def tags_removed(self) -> None:
        self.known(TAG_CHANGE_FIELDS)
        self.identity()
        self.tags(required=True, names=True, fields=REMOVED_TAG_FIELDS)

    def invoice(self) -> None:
        self.known(INVOICE_FIELDS)
        self.require("id")
        self.identity()
        self.require("amount", "paid", "date_created", "items")
        self.cents("amount", "paid", "discount", "tax", "shipping")
        self.date("date_created")
        self.one_of("is_refunded", REFUNDED_FLAGS)
        items = self.body.get("items")
        if present(items) and not isinstance(items, list):
            self.errors.append("'items' must be a non-empty array of invoice items")
        elif isinstance(items, list):
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    self.errors.append(f"'items[{index}]' must be an object")
                    continue
                item_checks = Checks(item, f"items[{index}].")
                item_checks.known(ITEM_FIELDS)
                item_checks.require("name", "product_id", "amount")
                item_checks.cents("amount", "total_paid")
                self.errors.extend(item_checks.errors)

    def subscription(self) -> None:
        self.known(SUBSCRIPTION_FIELDS)
        self.require("id")
        self.identity()
        self.require("amount", "product_id", "start_date", "last_bill_date", "billing_cycle", "frequency")
        self.cents("amount")
        self.integer("frequency", minimum=1)
        self.integer("quantity", minimum=0)  # "Defaults to 1", no lower bound given
        self.date("start_date", "last_bill_date", "trial_end_date", "end_date", "canceled_date")
        self.one_of("billing_cycle", BILLING_CYCLES)
        self.future("end_date", datetime.now(UTC))

    def tags(self, *, required: bool, names: bool, fields: tuple[str, ...]) -> None:
        """/tags/add and /tags/remove take ids, names or objects; /contact takes "List of
        TagIds or Array of Tag Objects" (``names=False``): a bare name there is refused."""
        tags = self.body.get("tags")
        if tags is None:
            if required:
                self.errors.append("missing 'tags' field")
            return
        kinds = "tag ids, names or objects" if names else "tag ids or tag objects"
        if not isinstance(tags, list) or (required and not tags):
            self.errors.append(f"'tags' must be a non-empty array of {kinds}")
            return
        for index, tag in enumerate(tags):
            if isinstance(tag, dict):
                self.errors.extend(f"unknown field 'tags[{index}].{key}'" for key in tag if key not in fields)
                if not present(tag.get("id")) and not present(tag.get("name")):
                    self.errors.append(f"missing 'tags[{index}].id' or 'tags[{index}].name' field")
            elif not (is_int(tag) or (names and non_empty_string(tag))):
                self.errors.append(f"'tags[{index}]' must be one of {kinds}")


class SegMetrics(VendorService):
    name = "segmetrics"
    prefix = "/segmetrics/api/v1"
    env_var = "SEGMETRICS_BASE_URL"
    routes = tuple(
        (method, f"/<account>/<integration>{path}", handler)
        for method, path, handler in (
            ("POST", "/contact", "post_contact"),
            ("DELETE", "/contact/<ident>", "delete_contact"),
            ("POST", "/tags/add", "add_tags"),
            ("POST", "/tags/remove", "remove_tags"),
            ("POST", "/invoice", "post_invoice"),
            ("POST", "/subscription", "post_subscription"),
        )
    )
    credential_fields = ("segmetrics_api_key",)  # "-H 'Authorization: YOUR_API_KEY'": no scheme
    unauthorized = "invalid or missing API key in the Authorization header"
    json_only = True  # "Request Body Schema: application/json", endpoint by endpoint

    def __init__(self, credentials: SandboxCredentials, clock: Clock) -> None:
        self.data = SegMetricsData()
        super().__init__(credentials, clock, lock=self.data.lock)

    def error(self, status: int, message: str, errors: list[str] | None = None) -> Response:
        return json_response({"status": "error", "errors": errors or [message]}, status)

    def reset(self) -> None:
        self.data.reset()

    def snapshot(self) -> dict[str, Any]:
        return self.data.snapshot()

    def guard(self, request: Request, args: Mapping[str, Any]) -> Response | None:
        creds = self.credentials
        if (args.get("account"), args.get("integration")) != (
            creds.segmetrics_account_id,
            creds.segmetrics_integration_id,
        ):
            return self.error(404, "unknown account or integration")
        return None

    def _valid_body(self, request: Request, rules: Callable[[Checks], None]) -> dict[str, Any]:
        """The JSON body, or SegMetrics' 400 listing every problem ``rules`` find in it."""
        body = self.json_object(request)
        checks = Checks(body)
        rules(checks)
        if checks.errors:
            raise Refused(self.error(400, checks.errors[0], checks.errors))
        return body

    # --- contacts and tags ----------------------------------------------------------

    def post_contact(self, request: Request, account: str, integration: str) -> Response:
        body = self._valid_body(request, Checks.contact)
        self.data.upsert_contact({key: value for key, value in body.items() if value is not None})
        return json_response({"status": "success"})

    def delete_contact(self, request: Request, account: str, integration: str, ident: str) -> Response:
        # An unknown contact is still "deleted": the retry of a delete that timed out must not fail.
        # The answer names the contact by its id ("id": "CONTACT_ID"), even when deleted by email.
        # Its invoices and subscriptions stay: "This will not delete any invoices or purchases".
        contact = self.data.lookup(ident)
        self.data.delete_contact(ident)
        return _deleted((contact or {}).get("contact_id") or ident, "contact")

    def add_tags(self, request: Request, account: str, integration: str) -> Response:
        return self._tags(request, add=True)

    def remove_tags(self, request: Request, account: str, integration: str) -> Response:
        return self._tags(request, add=False)

    def _tags(self, request: Request, *, add: bool) -> Response:
        body = self._valid_body(request, Checks.tags_added if add else Checks.tags_removed)
        contact = self.data.upsert_contact(_identity(body))
        if add:
            self.data.add_tags(contact, body["tags"])
        else:
            self.data.remove_tags(contact, body["tags"])
        return json_response({"status": "success"})

    # --- orders and subscriptions ---------------------------------------------------

    def post_invoice(self, request: Request, account: str, integration: str) -> Response:
        body = self._valid_body(request, Checks.invoice)
        invoice = {
            **self._owned_record(body),
            "paid": _number(body["paid"]),
            "is_refunded": bool(body.get("is_refunded")),
            **{key: _number(body.get(key)) or 0 for key in ("discount", "tax", "shipping")},
            "date_created": iso(body["date_created"]),
            "items": [],
        }
        invoice_id = invoice["id"]
        for number, item in enumerate(body["items"], start=1):
            self.data.ensure_product(item["product_id"], item.get("name"))
            invoice["items"].append(
                {
                    # "defaults to Order Id - Item number"
                    "id": id_text(item.get("id")) or f"{invoice_id}-{number}",
                    "name": item["name"],
                    "product_id": id_text(item["product_id"]),
                    "amount": _number(item["amount"]),
                    "total_paid": _number(item.get("total_paid")),
                    "subscription_id": id_text(item.get("subscription_id")),
                }
            )
        self.data.invoices[invoice_id] = invoice
        return json_response({"status": "success"})

    def post_subscription(self, request: Request, account: str, integration: str) -> Response:
        body = self._valid_body(request, Checks.subscription)
        subscription = {
            **self._owned_record(body),
            "product_id": id_text(body["product_id"]),
            "name": body.get("name"),
            "quantity": 1 if body.get("quantity") is None else int(_number(body["quantity"]) or 0),
            **{key: iso(body[key]) for key in ("start_date", "last_bill_date")},
            "billing_cycle": body["billing_cycle"],
            "frequency": int(_number(body["frequency"]) or 1),
            **{key: iso(body.get(key)) for key in ("trial_end_date", "end_date", "canceled_date")},
        }
        self.data.ensure_product(body["product_id"], body.get("name"))
        self.data.subscriptions[subscription["id"]] = subscription
        return json_response({"status": "success"})

    def _owned_record(self, body: dict[str, Any]) -> dict[str, Any]:
        """What an invoice and a subscription both hold: id, contact, amount, import time. "Adds a
        subscription to the existing contact": one not seen yet is created, because deliveries to
        SegMetrics are not ordered."""
        contact = self.data.upsert_contact(_identity(body))
        owner = {"contact_key": contact["key"], "contact_id": contact["contact_id"], "email": contact["email"]}
        return {"id": str(id_text(body["id"])), **owner, "amount": _number(body["amount"]), "imported_at": now_iso()}


def _identity(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in ("contact_id", "email") if present(body.get(key))}


def _not_none(value: Any) -> bool:
    return value is not None


def _number(value: Any) -> float | int | None:
    """Cents arrive as numbers, sometimes as numeric strings; None when it is neither."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return None


def _deleted(ident: str, kind: str) -> Response:
    return json_response({"id": ident, "status": "success", "object": kind, "deleted": True})
