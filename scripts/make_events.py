#!/usr/bin/env python3
"""Write ``events/``: API Gateway HTTP API (payload 2.0) events with validly signed bodies.

One event per fixture in ``tests/fixtures/stripe/<api version>/`` and
``tests/fixtures/typeform/``, for ``sam local invoke -e events/...`` and handler tests; and
each Stripe fixture in the Amazon EventBridge envelope under ``events/eventbridge/``, as
Stripe's event destination puts it on the partner event bus (``devstack.send eventbridge``).
Bodies are signed with the documented test secrets (docs/mapping.md) by ``devstack.support.signing``.

Deterministic and re-runnable: the Stripe timestamp is the event's ``created`` + 2 s, so
the files only change when the fixtures do, and a verifier with the default 300 s
tolerance calls them stale. Verify them with the tolerance disabled or the clock frozen at
the signed ``t``; or run ``--now`` to sign with the current time for a manual
``sam local invoke`` within five minutes (those files are not for committing).

Usage: python scripts/make_events.py [--out DIR] [--now] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from devstack.support.events import http_api_event as webhook_http_event
from devstack.support.signing import signature
from webhook_bridge.receiver.eventbridge import envelope_for

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SIGNING_DELAY_SECONDS = 2  # Stripe signs when it sends, a moment after the event was created

API_ID = "w3bh00kbr1"
DOMAIN = f"{API_ID}.execute-api.eu-west-1.amazonaws.com"
CALLERS = {
    # provider → (user agent, source IP): Stripe's published webhook IPs; Typeform publishes none.
    "stripe": ("Stripe/1.0 (+https://stripe.com/docs/webhooks)", "3.18.12.63"),
    "typeform": ("Typeform Webhooks", "203.0.113.24"),
}


def http_api_event(provider: str, body: str, received_at: int, request_key: str) -> dict[str, Any]:
    """The event API Gateway HTTP API hands the function, signed at ``received_at``."""
    user_agent, source_ip = CALLERS[provider]
    request_id = hashlib.sha256(request_key.encode()).hexdigest()
    headers = {
        "accept": "*/*; q=0.5, application/xml",
        "cache-control": "no-cache",
        "content-length": str(len(body.encode())),
        "content-type": "application/json; charset=utf-8",
        "host": DOMAIN,
        f"{provider}-signature": signature(provider, body.encode(), timestamp=received_at),
        "user-agent": user_agent,
        "x-amzn-trace-id": f"Root=1-{received_at:08x}-{request_id[:24]}",
    }
    return webhook_http_event(
        f"/webhooks/{provider}",
        body,
        headers,
        source_ip=source_ip,
        request_id=f"{request_id[:8]}=",
        time_epoch_ms=received_at * 1000,
        api_id=API_ID,
    )


def stripe_events(now: int | None) -> dict[str, dict[str, Any]]:
    events = {}
    for fixture in sorted((FIXTURES / "stripe").glob("*/*.json")):
        payload = json.loads(fixture.read_text())
        body = json.dumps(payload, indent=2, ensure_ascii=False)  # Stripe sends pretty-printed JSON
        signed_at = now if now is not None else payload["created"] + SIGNING_DELAY_SECONDS
        events[f"stripe/{fixture.parent.name}/{fixture.name}"] = http_api_event(
            "stripe", body, signed_at, payload["id"]
        )
    return events


def typeform_events(now: int | None) -> dict[str, dict[str, Any]]:
    events = {}
    for fixture in sorted((FIXTURES / "typeform").glob("*.json")):
        payload = json.loads(fixture.read_text())
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))  # Typeform sends compact JSON
        response = payload["form_response"]
        sent = datetime.fromisoformat(response.get("submitted_at") or response["landed_at"])
        received_at = now if now is not None else int(sent.timestamp()) + SIGNING_DELAY_SECONDS
        events[f"typeform/{fixture.name}"] = http_api_event("typeform", body, received_at, payload["event_id"])
    return events


def eventbridge_events() -> dict[str, dict[str, Any]]:
    events = {}
    for fixture in sorted((FIXTURES / "stripe").glob("*/*.json")):
        payload = json.loads(fixture.read_text())
        envelope_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"eventbridge/{payload['id']}"))
        events[f"eventbridge/{fixture.parent.name}/{fixture.name}"] = envelope_for(payload, envelope_id=envelope_id)
    return events


def build_events(now: int | None = None) -> dict[str, str]:
    """Relative path → file content."""
    events = {**stripe_events(now), **typeform_events(now), **eventbridge_events()}
    return {path: json.dumps(event, indent=2, ensure_ascii=False) + "\n" for path, event in sorted(events.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "events", help="directory to write (default: events/)")
    parser.add_argument("--now", action="store_true", help="sign with the current time (for manual sam local invoke)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the files on disk are not up to date")
    args = parser.parse_args(argv)
    files = build_events(int(time.time()) if args.now else None)
    if args.check:
        stale = [
            path
            for path, text in files.items()
            if not (args.out / path).is_file() or (args.out / path).read_text() != text
        ]
        for path in stale:
            print(f"out of date: {args.out / path}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        target = args.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    print(f"wrote {len(files)} events under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
