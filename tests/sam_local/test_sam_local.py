"""The README's `sam local` run, in real Lambda containers: every event in events/, the
messages they queue, each delivery function against the vendor sandbox, and start-api."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.sam_local import VENDOR_KEYS
from devstack.sandbox import SandboxCredentials
from devstack.send import load_payload, put_on_stripe_events_queue
from devstack.stack import wait_until
from devstack.support.events import sqs_batch
from devstack.support.signing import signed_headers
from tests.integration.test_events import EXPECTED, IDENTIFY
from tests.sam_local.conftest import ROOT, SamLocal, sam_environment

pytestmark = pytest.mark.docker

EVENTS = ROOT / "events"
EVENT_FILES = sorted(path for path in EVENTS.rglob("*.json") if path.parent != EVENTS)
CUSTOMER_ID_IN_PATH = re.compile(r"(?<=^/customers/)[^/]+")  # Customer.io's
SANDBOX = SandboxCredentials()
SEGMETRICS_ACCOUNT_PATH = f"/{SANDBOX.segmetrics_account_id}/{SANDBOX.segmetrics_integration_id}"
RECEIVERS = {  # events/<directory>/ → the function that receives them
    "stripe": "StripeWebhookFunction",
    "typeform": "TypeformWebhookFunction",
    "eventbridge": "StripeEventBridgeFunction",
}
START_API_TIMEOUT_SECONDS = 120.0
# Events that make an invoice known, and so send what was held for it (docs/mapping.md, "Refunds").
RELEASES_HELD = ("invoice.paid", "invoice_payment.paid")


def documented_vendors(path: Path) -> set[str]:
    """The vendors the default mapping calls for this event; some calls depend on what earlier
    deliveries stored, so an event may queue for fewer of them."""
    if path.stem == "form_response_hidden_email":
        return set()  # an email in a hidden field counts only when BRIDGE_MAPPING opts in
    endpoints, _ = EXPECTED[path.stem]
    return {vendor.value for vendor, _ in endpoints}


def documented_path(endpoint: str) -> str:
    """A sandbox endpoint as the documented calls name it, e.g. PUT /customers/{id}."""
    return CUSTOMER_ID_IN_PATH.sub("{id}", endpoint.removeprefix(SEGMETRICS_ACCOUNT_PATH))


def source_event_id(message: dict[str, Any]) -> str:
    return str(json.loads(message["Body"])["action"]["source_event_id"])


def drain(sam_local: SamLocal, queue_url: str) -> list[dict[str, Any]]:
    """Every message now on the queue; they stay invisible, so each is seen once."""
    sqs = sam_local.stack.aws_client("sqs")
    messages: list[dict[str, Any]] = []
    for _ in range(1000):
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)
    raise AssertionError(f"{queue_url} never ran empty")


def receiver(path: Path) -> str:
    return RECEIVERS[path.relative_to(EVENTS).parts[0]]


def bridged(path: Path) -> bool:
    return receiver(path) == "StripeEventBridgeFunction"


def through_stripe_events_queue(sam_local: SamLocal, path: Path) -> dict[str, Any]:
    """What the EventBridge rule and its queue hand the function: the envelope as a message body."""
    resources = sam_local.stack.resources
    assert resources is not None
    queue = resources.queues["StripeEventsQueue"]
    put_on_stripe_events_queue(json.loads(path.read_text()), queue.url, sam_local.stack.aws_client("sqs"))
    return sqs_batch(drain(sam_local, queue.url), queue.arn, sam_local.stack.region)


@pytest.fixture(scope="module")
def invoked(sam_local: SamLocal) -> dict[Path, dict[str, Any]]:
    """Each webhook event once through its receiver with `sam local invoke`: the HTTP response."""
    webhooks = [path for path in EVENT_FILES if not bridged(path)]
    return dict(zip(webhooks, sam_local.invoke_all([(receiver(p), p) for p in webhooks]), strict=True))


@pytest.fixture(scope="module")
def queued(sam_local: SamLocal, invoked: dict[Path, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """vendor → the messages the webhook events left on its queue."""
    return {vendor: drain(sam_local, sam_local.stack.delivery_queue(vendor)[1]) for vendor in VENDOR_KEYS}


@pytest.fixture(scope="module")
def bridged_answers(
    sam_local: SamLocal, queued: dict[str, list[dict[str, Any]]]
) -> tuple[dict[Path, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Each EventBridge envelope through the Stripe events queue and its function, after the
    webhooks (the same Stripe events: one id twice at the same moment is "in progress" by
    design): what the function answered, and what it left on the vendor queues."""
    events = [path for path in EVENT_FILES if bridged(path)]
    calls = [(receiver(p), through_stripe_events_queue(sam_local, p)) for p in events]
    answers = dict(zip(events, sam_local.invoke_all(calls), strict=True))
    return answers, {vendor: drain(sam_local, sam_local.stack.delivery_queue(vendor)[1]) for vendor in VENDOR_KEYS}


def test_every_event_is_answered_2xx(invoked: dict[Path, dict[str, Any]], bridged_answers: Any) -> None:
    answers, _ = bridged_answers
    assert len(invoked) + len(answers) == len(EVENT_FILES) > 40
    for path, response in invoked.items():
        body = json.loads(response["body"])
        assert response["statusCode"] == 200, (path, body)
        # Unmapped events are ignored; some mapped ones need a person earlier deliveries stored. An
        # event that makes an invoice known also sends the refunds and disputes that came before it.
        may_send = documented_vendors(path) or path.stem in RELEASES_HELD
        assert body["status"] in (("accepted", "ignored") if may_send else ("ignored",)), path
    for path, response in answers.items():
        assert response == {"batchItemFailures": []}, path


def test_the_queues_hold_the_documented_messages(
    invoked: dict[Path, dict[str, Any]], queued: dict[str, list[dict[str, Any]]]
) -> None:
    # A message is its action's event's: a refund or dispute held until its invoice was known is
    # queued by the webhook that made the invoice known, under its own event id.
    by_event: dict[str, list[str]] = defaultdict(list)
    for vendor, messages in queued.items():
        for message in messages:
            body = json.loads(message["Body"])
            assert body["vendor"] == vendor
            by_event[body["action"]["source_event_id"]].append(vendor)
    answers = [json.loads(response["body"]) for response in invoked.values()]
    assert sum(answer["messages"] for answer in answers) == sum(len(v) for v in by_event.values())
    for path, answer in zip(invoked, answers, strict=True):
        assert bool(answer["messages"]) == (answer["status"] == "accepted"), path
        assert set(by_event.pop(answer["event_id"], [])) <= documented_vendors(path), path
    assert not by_event, "messages of no event sent"
    created = json.loads(invoked[EVENTS / "stripe" / "2025-09-30.clover" / "customer.created.json"]["body"])
    assert created["messages"] == len(IDENTIFY)


def test_eventbridge_events_queue_only_for_the_documented_vendors(sam_local: SamLocal, bridged_answers: Any) -> None:
    answers, queued_after = bridged_answers
    # An envelope maps as the webhook event of its file name (the same Stripe event).
    envelopes = {json.loads(p.read_text())["detail"]["id"]: p for p in answers}
    for vendor, messages in queued_after.items():
        for message in messages:
            path = envelopes[source_event_id(message)]  # a message of no envelope: KeyError
            assert vendor in documented_vendors(path), (vendor, path)
    resources = sam_local.stack.resources
    assert resources is not None
    assert drain(sam_local, resources.queues["StripeEventsDeadLetterQueue"].url) == []


@pytest.fixture(scope="module")
def delivered(
    sam_local: SamLocal, invoked: dict[Path, dict[str, Any]], queued: dict[str, list[dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """vendor → what its delivery function answered to an SQS event holding the message
    that customer.created queued for it."""
    created = json.loads(invoked[EVENTS / "stripe" / "2025-09-30.clover" / "customer.created.json"]["body"])
    calls = []
    for vendor in VENDOR_KEYS:
        function, _, arn = sam_local.stack.delivery_queue(vendor)
        message = next(m for m in queued[vendor] if source_event_id(m) == created["event_id"])
        calls.append((function, sqs_batch([message], arn, sam_local.stack.region)))
    return dict(zip(VENDOR_KEYS, sam_local.invoke_all(calls), strict=True))


@pytest.mark.parametrize("vendor", VENDOR_KEYS)
def test_each_delivery_function_delivers_to_the_sandbox(
    sam_local: SamLocal, delivered: dict[str, dict[str, Any]], vendor: str
) -> None:
    assert delivered[vendor] == {"batchItemFailures": []}
    received = [(r["method"], r["endpoint"], r["status"]) for r in sam_local.stack.sandbox_requests(vendor)]
    identify = [tuple(call.split(" ")) for v, call in IDENTIFY.items() if v.value == vendor]
    assert [(method, documented_path(endpoint)) for method, endpoint, _ in received] == identify
    assert all(200 <= status < 300 for _, _, status in received), received
    resources = sam_local.stack.resources
    assert resources is not None
    queue = next(q for q in resources.queues.values() if q.url == sam_local.stack.delivery_queue(vendor)[1])
    assert queue.dead_letter_queue is not None
    assert drain(sam_local, resources.queues[queue.dead_letter_queue].url) == []


# -- start-api -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def api(sam_local: SamLocal) -> Iterator[str]:
    """`sam local start-api` until the module ends; its URL once it answers."""
    port = free_port()
    log = (sam_local.workdir / f"start-api-{port}.log").open("w")
    process = subprocess.Popen(
        # LAZY: only the function the test calls starts, not all six (samconfig.toml's EAGER).
        [*sam_local.sam.start_api(sam_local.stack, port), "--warm-containers", "LAZY"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=sam_environment(),
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, Path(log.name).read_text()[-3000:]
        try:
            httpx.get(f"{url}/", timeout=2)
        except httpx.TransportError:
            return False
        return True

    try:
        assert wait_until(answers, START_API_TIMEOUT_SECONDS, interval=0.5), "start-api did not answer"
        yield url
    finally:
        process.terminate()  # SAM stops its warm containers on SIGTERM; the stack removes leftovers
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_start_api_accepts_a_signed_webhook_and_refuses_a_forged_one(sam_local: SamLocal, api: str) -> None:
    payload = load_payload("stripe", "customer.created") | {"id": f"evt_{uuid.uuid4().hex[:24]}"}
    body = json.dumps(payload).encode()

    forged = httpx.post(
        f"{api}/webhooks/stripe", content=body, headers=signed_headers("stripe", body, "whsec_forged"), timeout=60
    )
    signed = httpx.post(f"{api}/webhooks/stripe", content=body, headers=signed_headers("stripe", body), timeout=60)

    assert forged.status_code == 401, forged.text
    assert signed.status_code == 200, signed.text
    assert (signed.json()["event_id"], signed.json()["messages"]) == (payload["id"], len(IDENTIFY))
    # Queued before the 2xx: one message per vendor, and none for the forged request.
    for vendor in VENDOR_KEYS:
        ids = [source_event_id(m) for m in drain(sam_local, sam_local.stack.delivery_queue(vendor)[1])]
        assert ids.count(payload["id"]) == 1, vendor
