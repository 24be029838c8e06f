"""``bridgectl``: operate Webhook Bridge - DLQs, vendors, and previews of events.

Uses the standard AWS configuration (profile, ``AWS_REGION``, ``AWS_ENDPOINT_URL``),
so the same commands work on AWS and against ``make dev``; ``preview`` needs no AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from webhook_bridge.ops import dlq
from webhook_bridge.ops.queues import QUEUE_NAMES, VendorQueues, discover
from webhook_bridge.vendors_enum import Vendor

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bridgectl", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="webhook-bridge", help="stack name (queue name prefix)")
    commands = parser.add_subparsers(dest="command", required=True)
    dlq_parser = commands.add_parser("dlq", help="dead-letter queues")
    actions = dlq_parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every vendor's queue and DLQ depth")
    show = actions.add_parser("show", help="messages in a vendor's DLQ, with their failure reasons (masked)")
    show.add_argument("vendor", choices=list(QUEUE_NAMES))
    show.add_argument("--limit", type=int, default=20)
    show.add_argument("--json", action="store_true", help="one JSON object per line")
    again = actions.add_parser("redrive", help="send DLQ messages back to the vendor's queue")
    again.add_argument("vendor", choices=list(QUEUE_NAMES))
    selection = again.add_mutually_exclusive_group(required=True)
    selection.add_argument("--all", action="store_true")
    selection.add_argument("--id", dest="ids", action="append", help="message id (repeatable)")
    again.add_argument("--limit", type=int, default=1000)
    look = commands.add_parser(
        "preview",
        help="the actions and exact vendor requests an event file would produce (no AWS needed)",
        description="For a Stripe or Typeform event, an EventBridge envelope or an API Gateway event "
        "(events/...): the actions and the HTTP request each vendor would receive, with BRIDGE_MAPPING "
        "applied and personal data masked. Nothing is sent.",
    )
    look.add_argument("file", type=Path, help="the event file (JSON)")
    look.add_argument("--mapping", type=Path, help="a BRIDGE_MAPPING JSON file (default: $BRIDGE_MAPPING)")
    look.add_argument("--vendor", dest="vendors", action="append", choices=[v.value for v in Vendor])
    look.add_argument("--json", action="store_true", help="one JSON document")
    return parser


def main(argv: Sequence[str] | None = None, sqs: Any | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "preview":
        return _preview(args.file, args.mapping, args.vendors, args.json)
    if sqs is None:
        sqs = _sqs_client()
    queues = discover(sqs, args.stack)
    if not queues:
        print(f"no queues found for stack {args.stack!r}", file=sys.stderr)
        return 2
    if args.action == "list":
        print(f"{'queue':<13} {'queued':>7} {'delayed':>8} {'in flight':>10} {'dead-lettered':>14}")
        for name, vq in queues.items():
            c = dlq.counts(sqs, vq)
            print(f"{name:<13} {c['queued']:>7} {c['delayed']:>8} {c['in_flight']:>10} {c['dead_lettered']:>14}")
        return 0
    vendor_queues = queues.get(args.vendor)
    if vendor_queues is None:
        print(f"no queues for {args.vendor}", file=sys.stderr)
        return 2
    if args.action == "show":
        return _show(sqs, vendor_queues, args.limit, args.json)
    return _redrive(sqs, vendor_queues, set(args.ids or []), args.limit)


def _preview(file: Path, mapping_file: Path | None, vendors: list[str] | None, as_json: bool) -> int:
    from webhook_bridge.mapping_config import MappingConfigError
    from webhook_bridge.ops.preview import PreviewError, preview, render

    try:
        document = json.loads(file.read_text(encoding="utf-8"))
        mapping = mapping_file.read_text(encoding="utf-8") if mapping_file else os.environ.get("BRIDGE_MAPPING")
        chosen = tuple(Vendor(v) for v in vendors) if vendors else tuple(Vendor)
        result = preview(document, mapping, chosen)
    except (OSError, ValueError, PreviewError, MappingConfigError) as error:
        print(f"bridgectl preview: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False) if as_json else render(result))
    return 0


def _sqs_client() -> Any:
    import boto3

    session = boto3.Session()
    endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL") or ""
    if urlparse(endpoint).hostname in LOOPBACK:
        # The local stack (moto) accepts any credentials and region; don't make people invent them.
        local: dict[str, Any] = {"region_name": session.region_name or "us-east-1"}
        if session.get_credentials() is None:
            local.update(aws_access_key_id="testing", aws_secret_access_key="testing")
        return session.client("sqs", **local)
    return session.client("sqs")


def _show(sqs: Any, queues: VendorQueues, limit: int, as_json: bool) -> int:
    letters = list(dlq.read(sqs, queues.dlq_url, limit))
    dlq.release(sqs, queues.dlq_url, letters)
    for letter in letters:
        summary = letter.summary()
        if as_json:
            print(json.dumps(summary, ensure_ascii=False))
        else:
            print(f"{summary['message_id']}  {summary['event_type']}  attempts={summary['attempts']}")
            print(f"    reason: {summary['reason']}")
            print(f"    action: {summary['action_id']}")
    if not as_json:
        print(f"{len(letters)} message(s) in the {queues.name} DLQ")
    return 0


def _redrive(sqs: Any, queues: VendorQueues, ids: set[str], limit: int) -> int:
    moved, skipped = 0, []
    for letter in dlq.read(sqs, queues.dlq_url, limit):
        if ids and letter.message_id not in ids:
            skipped.append(letter)
            continue
        dlq.redrive(sqs, queues, letter)
        moved += 1
    dlq.release(sqs, queues.dlq_url, skipped)
    print(f"redrove {moved} message(s) to the {queues.name} queue")
    if ids and moved < len(ids):
        print(f"{len(ids) - moved} requested message id(s) were not found in the DLQ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
