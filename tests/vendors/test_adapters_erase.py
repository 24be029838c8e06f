"""An erase action: one documented delete per vendor that has one; a 404 counts as erased."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from webhook_bridge.actions import ActionKind
from webhook_bridge.routing import route
from webhook_bridge.vendors.catalog import Vendor, vendors
from webhook_bridge.vendors.exceptions import InternalServerError

from .conftest import API_KEY, CLIENTS, EMAIL, STRIPE_CUSTOMER, answer, deliver_to, json_body, make_action, only_request

ERASE = make_action(kind=ActionKind.ERASE)


def test_loops_posts_contacts_delete_with_the_email(http_mock) -> None:
    answer(http_mock, 200, json={"success": True, "message": "Contact deleted."})
    result = deliver_to("loops", ERASE)
    request = only_request(http_mock)
    assert (request.method, str(request.url)) == ("POST", "https://app.loops.so/api/v1/contacts/delete")
    assert json_body(request) == {"email": EMAIL}
    assert (result.calls, result.duplicate) == (["POST /contacts/delete"], False)


def test_customerio_deletes_the_customer_keyed_by_email(http_mock) -> None:
    answer(http_mock, 200, json={})
    deliver_to("customerio", ERASE)
    request = only_request(http_mock)
    assert request.method == "DELETE"
    assert str(request.url) == f"https://track.customer.io/api/v1/customers/{quote(EMAIL, safe='')}"
    assert request.content == b""


def test_segmetrics_deletes_the_contact_under_the_id_it_was_upserted_with(http_mock) -> None:
    answer(http_mock, 200, json={"id": STRIPE_CUSTOMER, "status": "success", "object": "contact", "deleted": True})
    deliver_to("segmetrics", ERASE)
    request = only_request(http_mock)
    assert request.method == "DELETE"
    assert str(request.url) == f"https://import.segmetrics.io/api/v1/acct1/integ1/contact/{STRIPE_CUSTOMER}"
    assert request.headers["authorization"] == API_KEY


def test_segmetrics_deletes_by_email_without_a_stripe_id(http_mock) -> None:
    answer(http_mock, 200, json={"status": "success", "deleted": True})
    deliver_to("segmetrics", make_action(kind=ActionKind.ERASE, stripe_customer_id=None))
    assert str(only_request(http_mock).url).endswith("/contact/" + quote(EMAIL, safe=""))


ERASING = [vendor for vendor in CLIENTS if vendor != "convertloop"]


@pytest.mark.parametrize("vendor", ERASING)
def test_a_contact_the_vendor_does_not_have_counts_as_erased(http_mock, vendor) -> None:
    answer(http_mock, 404, json={"message": "not found"})
    result = deliver_to(vendor, ERASE)
    assert result.duplicate and len(result.calls) == 1


@pytest.mark.parametrize("vendor", ERASING)
def test_a_server_error_is_not_taken_for_done(http_mock, vendor) -> None:
    answer(http_mock, 500, json={})
    with pytest.raises(InternalServerError):
        deliver_to(vendor, ERASE)


def test_erase_goes_to_every_vendor_with_a_delete_and_not_to_convertloop() -> None:
    assert route(ERASE, list(vendors())) == [Vendor(vendor) for vendor in ERASING]
    assert route(ERASE, list(vendors()), allowed=[Vendor("loops")]) == [Vendor("loops")]
