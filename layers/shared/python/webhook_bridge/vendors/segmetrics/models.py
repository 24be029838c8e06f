"""Request models of the SegMetrics import API calls the bridge makes.

Identifiers (contact, invoice, product, tag) are integers or non-empty strings:
the document's examples use numbers, our sources (Stripe) use strings. Amounts are
integer cents. Datetimes leave as the documented ``YYYY-MM-DD HH:MM:SS`` in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, PlainSerializer, StrictInt, model_validator

from webhook_bridge.vendors.fields import Cents, Email, NonEmptyStr
from webhook_bridge.vendors.requests import VendorRequest
from webhook_bridge.vendors.segmetrics.spec import SPEC
from webhook_bridge.vendors.wire_formats import as_utc, jsonable, segmetrics_datetime

VENDOR = SPEC.name

Identifier = StrictInt | NonEmptyStr
SegDateTime = Annotated[datetime, PlainSerializer(segmetrics_datetime, return_type=str)]
BillingCycle = Literal["year", "month", "week", "day"]
ContactStatus = Literal["active", "inactive"]


def _custom_fields_wire(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # ``None`` inside custom_fields is meaningful (the document's "field_to_remove": null).
    return None if value is None else jsonable(value, datetime_format=segmetrics_datetime)


CustomFields = Annotated[dict[NonEmptyStr, Any], PlainSerializer(_custom_fields_wire)]
RefundedFlag = Annotated[bool, PlainSerializer(int, return_type=int)]  # the document sends 0 / 1
# The contact table gives affiliate_id, geo_lat and geo_lon no type and the example sends
# each as a string ("123", "45.523064"): text is what every reading of the document accepts.
AsText = PlainSerializer(str, return_type=str)
AffiliateId = Annotated[Identifier, AsText]
Coordinate = Annotated[NonEmptyStr | Annotated[float, Field(allow_inf_nan=False)], AsText]


class SegMetricsRequest(VendorRequest):
    vendor_name: ClassVar[str] = VENDOR


class _ContactReference(SegMetricsRequest):
    """``contact_id`` or ``email``: each is required when the other is missing."""

    contact_id: Identifier | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _identified(self) -> _ContactReference:
        if self.contact_id is None and self.email is None:
            raise ValueError("contact_id or email is required")
        return self


class TagObject(SegMetricsRequest):
    id: Identifier | None = None
    name: NonEmptyStr | None = None
    date: SegDateTime | None = None  # when the tag was applied (SegMetrics defaults to now)

    @model_validator(mode="after")
    def _named(self) -> TagObject:
        if self.id is None and self.name is None:
            raise ValueError("a tag object needs an id or a name")
        return self


class TagReference(SegMetricsRequest):
    """Tags to remove: ``id`` and/or ``name`` (no date)."""

    id: Identifier | None = None
    name: NonEmptyStr | None = None

    @model_validator(mode="after")
    def _named(self) -> TagReference:
        if self.id is None and self.name is None:
            raise ValueError("a tag object needs an id or a name")
        return self


# /tags/add and /tags/remove take tag ids, tag names or tag objects; /contact takes only
# "List of TagIds or Array of Tag Objects": a name there must travel inside an object.
Tag = StrictInt | NonEmptyStr | TagObject
RemovedTag = StrictInt | NonEmptyStr | TagReference
ContactTag = StrictInt | TagObject


class ContactRequest(_ContactReference):
    """``POST /contact``: add or update a contact."""

    first_name: str | None = None
    last_name: str | None = None
    status: ContactStatus | None = None
    date_created: SegDateTime | None = None
    last_updated: SegDateTime | None = None
    tags: list[ContactTag] | None = None
    custom_fields: CustomFields | None = None
    # Attribution: never empty, since an empty value would overwrite what is known.
    utm_campaign: NonEmptyStr | None = None
    utm_content: NonEmptyStr | None = None
    utm_medium: NonEmptyStr | None = None
    utm_source: NonEmptyStr | None = None
    utm_term: NonEmptyStr | None = None
    referring_url: NonEmptyStr | None = None
    optin_url: NonEmptyStr | None = None
    ip_address: NonEmptyStr | None = None
    affiliate_id: AffiliateId | None = None
    geo_lat: Coordinate | None = None
    geo_lon: Coordinate | None = None


class TagsRequest(_ContactReference):
    """``POST /tags/add``: a non-empty list of tag ids, names or objects."""

    tags: list[Tag] = Field(min_length=1)


class TagsRemoveRequest(_ContactReference):
    """``POST /tags/remove``: a non-empty list of tag ids, names or ``{id, name}``."""

    tags: list[RemovedTag] = Field(min_length=1)


class InvoiceItem(SegMetricsRequest):
    id: Identifier | None = None  # SegMetrics defaults it to "<order id>-<item number>"
    name: NonEmptyStr
    product_id: Identifier
    amount: Cents
    total_paid: Cents | None = None  # in the document's example, not its table
    subscription_id: Identifier | None = None


class InvoiceRequest(_ContactReference):
    """``POST /invoice``: a purchase with at least one line item."""

    id: Identifier
    amount: Cents
    paid: Cents
    date_created: SegDateTime
    items: list[InvoiceItem] = Field(min_length=1)
    is_refunded: RefundedFlag | None = None
    discount: Cents | None = None
    tax: Cents | None = None
    shipping: Cents | None = None


class SubscriptionRequest(_ContactReference):
    """``POST /subscription``: created, or updated when the id exists."""

    id: Identifier
    amount: Cents
    product_id: Identifier
    start_date: SegDateTime
    last_bill_date: SegDateTime
    billing_cycle: BillingCycle
    frequency: Annotated[StrictInt, Field(ge=1)]
    name: NonEmptyStr | None = None
    # "Defaults to 1", with no lower bound: Stripe allows a quantity of 0 (no seats yet).
    quantity: Annotated[StrictInt, Field(ge=0)] | None = None
    trial_end_date: SegDateTime | None = None
    end_date: SegDateTime | None = None  # "A date in the future at which the subscription will ... get canceled"
    canceled_date: SegDateTime | None = None

    @model_validator(mode="after")
    def _end_date_ahead(self) -> SubscriptionRequest:
        if self.end_date is not None and as_utc(self.end_date) <= datetime.now(UTC):
            raise ValueError("end_date must be in the future")
        return self
