"""Send a freshly signed test webhook to the local stack (or any Webhook Bridge URL).

    python -m devstack.send stripe customer.created
    python -m devstack.send typeform form_response --url http://127.0.0.1:3000
    python -m devstack.send stripe path/to/payload.json --keep-id
    python -m devstack.send eventbridge invoice.paid

The payload comes from ``events/`` (the body of the ready API Gateway event) or from a
JSON file; it gets a new event id unless ``--keep-id`` (to try deduplication), and is
signed now with the configured secret, exactly as the provider would.

``eventbridge`` wraps the Stripe event in Amazon EventBridge's envelope and puts it on the
Stripe events queue, as the stack's rule on the partner event bus does (only Stripe can
publish to its partner event source, so that is where a test enters).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from devstack.state import read_state
from devstack.support.signing import TEST_SECRETS, signed_headers

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


def load_payload(provider: str, name: str) -> dict[str, Any]:
    path = Path(name)
    if not path.exists():
        if "/" in name or name.endswith(".json"):
            raise SystemExit(f"no such file: {name}")
        matches = sorted((EVENTS_DIR / provider).rglob(f"{name}.json"), reverse=True)
        if not matches:
            raise SystemExit(f"no event named {name!r} under events/{provider}/")
        path = matches[0]
    document = json.loads(path.read_text(encoding="utf-8"))
    if "routeKey" in document and "body" in document:  # an API Gateway event: take the provider's body
        body = base64.b64decode(document["body"]) if document.get("isBase64Encoded") else document["body"].encode()
        document = json.loads(body)
    if "detail-type" in document and "detail" in document:  # an EventBridge envelope: take the Stripe event
        document = document["detail"]
    return document


def _running_stack_url() -> str:
    state = read_state()
    if state and state.get("api_url"):
        return str(state["api_url"]).rstrip("/")
    return f"http://127.0.0.1:{os.environ.get('PORT', '3000')}"


def put_on_stripe_events_queue(envelope: dict[str, Any], queue_url: str, sqs: Any) -> str:
    """What the EventBridge rule does with an event: one SQS message, the envelope as its body."""
    return str(sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(envelope))["MessageId"])


def _send_eventbridge(payload: dict[str, Any], queue_url: str | None) -> int:
    from webhook_bridge.receiver.eventbridge import envelope_for

    if queue_url:  # a deployed stack: the standard AWS configuration
        import boto3

        sqs = boto3.client("sqs")
    else:
        from devstack.aws import client

        state = read_state()
        if state is None:
            raise SystemExit("no running `make dev` stack (start it, or give --queue-url with AWS configuration)")
        if "StripeEventsQueue" not in state["queue_urls"]:
            raise SystemExit("the running stack has no StripeEventsQueue (StripeEventSourceName is empty)")
        queue_url = state["queue_urls"]["StripeEventsQueue"]
        sqs = client("sqs", state["aws"]["endpoint"], state["aws"]["region"])
    message_id = put_on_stripe_events_queue(envelope_for(payload), queue_url, sqs)
    print(f"queued {payload.get('type')} {payload.get('id')} as message {message_id}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="send a signed test webhook")
    parser.add_argument("provider", choices=["stripe", "typeform", "eventbridge"])
    parser.add_argument("event", help="event name under events/<provider>/ (e.g. customer.created) or a JSON file")
    parser.add_argument("--url", default=None, help="API URL (default: the running `make dev` stack)")
    parser.add_argument("--secret", help="signing secret (default: the configured or test secret)")
    parser.add_argument("--keep-id", action="store_true", help="keep the event id, to see deduplication at work")
    parser.add_argument("--queue-url", help="eventbridge: the StripeEventsQueue of a deployed stack")
    args = parser.parse_args(argv)

    payload = load_payload(args.provider, args.event)
    if not args.keep_id:
        id_field = "event_id" if args.provider == "typeform" else "id"
        prefix = "" if args.provider == "typeform" else "evt_"
        payload[id_field] = f"{prefix}{uuid.uuid4().hex[:24]}"
    if args.provider == "eventbridge":
        return _send_eventbridge(payload, args.queue_url)
    body = json.dumps(payload, ensure_ascii=False).encode()
    env_name = f"{args.provider.upper()}_WEBHOOK_SECRET"
    secret = args.secret or os.environ.get(env_name) or TEST_SECRETS[args.provider]
    headers = signed_headers(args.provider, body, secret.split(",")[0])
    url = args.url or _running_stack_url()
    response = httpx.post(f"{url}/webhooks/{args.provider}", content=body, headers=headers, timeout=30)
    print(response.status_code, response.text)
    return 0 if response.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
