"""An erase action: one documented delete per vendor that has one; a 404 counts as erased."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from webhook_bridge.actions import ActionKind
from webhook_bridge.routing import route
from webhook_bridge.vendors.catalog import Vendor, vendors
from webhook_bridge.vendors.customerio import adapter as customerio_adapter
from webhook_bridge.vendors.customerio.client import CustomerIoClient
from webhook_bridge.vendors.exceptions import InternalServerError
from webhook_bridge.vendors.loops import adapter as loops_adapter
from webhook_bridge.vendors.loops.client import LoopsClient
from webhook_bridge.vendors.segmetrics import adapter as segmetrics_adapter
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient

from .conftest import API_KEY, EMAIL, SITE_ID, STRIPE_CUSTOMER, answer, json_body, make_action, only_request

ERASE = make_action(kind=ActionKind.ERASE)


def test_loops_posts_contacts_delete_with_the_email(http_mock) -> None:
    answer(http_mock, 200, json={"success": True, "message": "Contact deleted."})
    result = loops_adapter.deliver(ERASE, LoopsClient(API_KEY))
    request = only_request(http_mock)
    assert (request.method, str(request.url)) == ("POST", "https://app.loops.so/api/v1/contacts/delete")
    assert json_body(request) == {"email": EMAIL}
    assert (result.calls, result.duplicate) == (["POST /contacts/delete"], False)


def test_customerio_deletes_the_customer_keyed_by_email(http_mock) -> None:
    answer(http_mock, 200, json={})
    customerio_adapter.deliver(ERASE, CustomerIoClient(SITE_ID, API_KEY))
    request = only_request(http_mock)
    assert request.method == "DELETE"
    assert str(request.url) == f"https://track.customer.io/api/v1/customers/{quote(EMAIL, safe='')}"
    assert request.content == b""


def test_segmetrics_deletes_the_contact_under_the_id_it_was_upserted_with(http_mock) -> None:
    answer(http_mock, 200, json={"id": STRIPE_CUSTOMER, "status": "success", "object": "contact", "deleted": True})
    segmetrics_adapter.deliver(ERASE, SegMetricsClient("acct1", "integ1", API_KEY))
    request = only_request(http_mock)
    assert request.method == "DELETE"
    assert str(request.url) == f"https://import.segmetrics.io/api/v1/acct1/integ1/contact/{STRIPE_CUSTOMER}"
    assert request.headers["authorization"] == API_KEY


def test_segmetrics_deletes_by_email_without_a_stripe_id(http_mock) -> None:
    answer(http_mock, 200, json={"status": "success", "deleted": True})
    segmetrics_adapter.deliver(
        make_action(kind=ActionKind.ERASE, stripe_customer_id=None), SegMetricsClient("acct1", "integ1", API_KEY)
    )
    assert str(only_request(http_mock).url).endswith("/contact/" + quote(EMAIL, safe=""))


DELIVERIES = [
    (loops_adapter.deliver, LoopsClient(API_KEY)),
    (customerio_adapter.deliver, CustomerIoClient(SITE_ID, API_KEY)),
    (segmetrics_adapter.deliver, SegMetricsClient("acct1", "integ1", API_KEY)),
]


@pytest.mark.parametrize(("deliver", "client"), DELIVERIES)
def test_a_contact_the_vendor_does_not_have_counts_as_erased(http_mock, deliver, client) -> None:
    answer(http_mock, 404, json={"message": "not found"})
    result = deliver(ERASE, client)
    assert result.duplicate and len(result.calls) == 1


@pytest.mark.parametrize(("deliver", "client"), DELIVERIES)
def test_a_server_error_is_not_taken_for_done(http_mock, deliver, client) -> None:
    answer(http_mock, 500, json={})
    with pytest.raises(InternalServerError):
        deliver(ERASE, client)


def test_erase_goes_to_every_vendor_with_a_delete_and_not_to_convertloop() -> None:
    assert route(ERASE, list(vendors())) == [vendor for vendor in vendors() if vendor != Vendor("convertloop")]
    assert route(ERASE, list(vendors()), allowed=[Vendor("loops")]) == [Vendor("loops")]
