"""``bridgectl``: operate Webhook Bridge - dead-letter queues, vendor consumers, previews, traces, backfills.

Uses the standard AWS configuration (profile, ``AWS_REGION``, ``AWS_ENDPOINT_URL``),
so the same commands work on AWS and against ``make dev``; ``preview`` needs no AWS.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from webhook_bridge.ops import backfill, controls, dlq
from webhook_bridge.ops.queues import STRIPE_EVENTS, VendorQueues, discover, queue_names
from webhook_bridge.ops.selection import Selection, parse_when
from webhook_bridge.settings import environment_value
from webhook_bridge.vendors.catalog import Vendor, vendors

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
NAMES_HELP = "a vendor, or stripe-events (the Stripe EventBridge consumer's queue)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bridgectl", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="webhook-bridge", help="stack name (queue name prefix)")
    commands = parser.add_subparsers(dest="command", required=True)
    _dlq_parser(commands)
    _vendor_parser(commands)
    _preview_parser(commands)
    _stripe_parsers(commands)
    follow = commands.add_parser(
        "trace",
        help="where one event went: deduplicated or not, and per vendor delivered, retrying or dead-lettered",
        description="Where one event went, from the delivery log the functions keep for 7 days beside their "
        "idempotency records: its receipt and duplicates, and per vendor and action its latest state.",
    )
    follow.add_argument("event_id", help="the provider's event id (Stripe evt_..., Typeform event_id)")
    follow.add_argument("--provider", choices=["stripe", "typeform"], help="default: stripe for evt_... ids")
    follow.add_argument("--json", action="store_true", help="one JSON document")
    return parser


def _dlq_parser(commands: Any) -> None:
    actions = commands.add_parser("dlq", help="dead-letter queues").add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every queue's depth: queued, delayed, in flight, dead-lettered")
    show = actions.add_parser("show", help="messages in a DLQ, with their failure reasons (masked)")
    show.add_argument("vendor", choices=list(queue_names()), help=NAMES_HELP)
    show.add_argument("--limit", type=int, default=20)
    show.add_argument("--json", action="store_true", help="one JSON object per line")
    again = actions.add_parser(
        "redrive",
        help="send DLQ messages back to their queue",
        description="Send dead-lettered messages back to their queue with a fresh retry budget. --all alone "
        "uses SQS's StartMessageMoveTask where available; the filters select by reading the DLQ. "
        "Filters combine (all must match). Dates are UTC: 2026-11-01 or ISO 8601.",
    )
    again.add_argument("vendor", choices=list(queue_names()), help=NAMES_HELP)
    again.add_argument("--all", action="store_true", help="every message (or every one the filters select)")
    again.add_argument("--id", dest="ids", action="append", default=[], help="message id (repeatable)")
    again.add_argument("--reason", help="part of the failure reason or error class, e.g. BadRequestError")
    again.add_argument("--status", help="the HTTP status the vendor answered, e.g. 400")
    again.add_argument("--event-type", dest="event_types", action="append", default=[], help="e.g. invoice.*")
    again.add_argument("--since", type=parse_when, help="dead-lettered at or after")
    again.add_argument("--until", type=parse_when, help="dead-lettered before")
    again.add_argument("--dry-run", action="store_true", help="list what would be redriven; move nothing")
    again.add_argument("--limit", type=int, default=1000, help="messages read from the DLQ at most")


def _vendor_parser(commands: Any) -> None:
    vendor = commands.add_parser("vendor", help="pause or resume a vendor's delivery (its event source mapping)")
    actions = vendor.add_subparsers(dest="action", required=True)
    actions.add_parser("status", help="each queue's consumer: enabled or paused, and what waits")
    for action, text in (("pause", "stop delivering: messages wait in the queue"), ("resume", "deliver again")):
        command = actions.add_parser(action, help=text, description=f"{text.capitalize()}.")
        command.add_argument("vendor", choices=list(queue_names()), help=NAMES_HELP)


def _preview_parser(commands: Any) -> None:
    look = commands.add_parser(
        "preview",
        help="the actions and exact vendor requests an event file would produce (no AWS needed)",
        description="For a Stripe or Typeform event, an EventBridge envelope or an API Gateway event "
        "(events/...): the actions and the HTTP request each vendor would receive, with BRIDGE_MAPPING "
        "applied and personal data masked. Nothing is sent.",
    )
    look.add_argument("file", type=Path, help="the event file (JSON)")
    look.add_argument("--mapping", type=Path, help="a BRIDGE_MAPPING JSON file (default: $BRIDGE_MAPPING)")
    look.add_argument("--vendor", dest="vendors", action="append", choices=[v.value for v in vendors()])
    look.add_argument("--json", action="store_true", help="one JSON document")


def _stripe_parsers(commands: Any) -> None:
    key = "Reads Stripe with STRIPE_API_KEY (a restricted, read-only key), else the stack's StripeApiSecret."
    how = "Events go on the Stripe events queue, through the receivers' deduplication, mapping and fan-out."
    replay = commands.add_parser(
        "backfill",
        help="replay Stripe's events since a date (Stripe keeps 30 days); processed ones are deduplicated",
        description=f"Replay Stripe's /v1/events created since a date, oldest first. {how} {key}",
    )
    replay.add_argument("provider", choices=["stripe"])
    replay.add_argument("--since", type=parse_when, required=True, help="UTC date or ISO 8601, e.g. 2026-11-01")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed; send nothing")
    first = commands.add_parser(
        "import",
        help="send existing Stripe customers and non-canceled subscriptions, as on installing",
        description="Send every Stripe customer (as customer.updated) and every subscription that is not "
        f"canceled (as customer.subscription.updated), with ids that make a re-run deduplicated. {how} {key}",
    )
    first.add_argument("provider", choices=["stripe"])
    first.add_argument("--dry-run", action="store_true", help="count what would be sent; send nothing")


def main(
    argv: Sequence[str] | None = None,
    sqs: Any | None = None,
    lambda_client: Any | None = None,
    dynamodb: Any | None = None,
    stripe: Any | None = None,
) -> int:
    args = _parser().parse_args(argv)
    if args.command == "preview":
        return _preview(args.file, args.mapping, args.vendors, args.json)
    if args.command in ("backfill", "import"):
        return _from_stripe(args, stripe, sqs or _aws_client("sqs"))
    if args.command == "trace":
        return _trace(dynamodb or _aws_client("dynamodb"), args.stack, args.event_id, args.provider, args.json)
    sqs = sqs or _aws_client("sqs")
    queues = discover(sqs, args.stack)
    if not queues:
        print(f"no queues found for stack {args.stack!r}", file=sys.stderr)
        return 2
    if args.action in ("list", "status"):
        return _list(sqs, queues) if args.command == "dlq" else _status(lambda_client, sqs, queues)
    chosen = queues.get(args.vendor)
    if chosen is None:
        print(f"no queues for {args.vendor}", file=sys.stderr)
        return 2
    if args.command == "vendor":
        return _pause_or_resume(lambda_client or _aws_client("lambda"), sqs, chosen, args.action == "resume")
    if args.action == "show":
        return _show(sqs, chosen, args.limit, args.json)
    return _redrive(sqs, chosen, args)


def _aws_client(service: str) -> Any:
    import boto3

    session = boto3.Session()
    variable = f"AWS_ENDPOINT_URL_{service.upper()}"
    endpoint = environment_value(variable) or environment_value("AWS_ENDPOINT_URL") or ""
    if urlparse(endpoint).hostname in LOOPBACK:
        # The local stack (moto) accepts any credentials and region; don't make people invent them.
        local: dict[str, Any] = {"region_name": session.region_name or "us-east-1"}
        if session.get_credentials() is None:
            local.update(aws_access_key_id="testing", aws_secret_access_key="testing")
        return session.client(service, **local)  # type: ignore[call-overload]
    return session.client(service)  # type: ignore[call-overload]


def _list(sqs: Any, queues: dict[str, VendorQueues]) -> int:
    print(f"{'queue':<13} {'queued':>7} {'delayed':>8} {'in flight':>10} {'dead-lettered':>14}")
    for name, vq in queues.items():
        c = dlq.counts(sqs, vq)
        print(f"{name:<13} {c['queued']:>7} {c['delayed']:>8} {c['in_flight']:>10} {c['dead_lettered']:>14}")
    return 0


def _status(lambda_client: Any | None, sqs: Any, queues: dict[str, VendorQueues]) -> int:
    lambda_client = lambda_client or _aws_client("lambda")
    print(f"{'queue':<13} {'consumer':<10} {'queued':>7} {'delayed':>8}")
    for name, vq in queues.items():
        states = {m["State"] for m in controls.event_source_mappings(lambda_client, sqs, vq)}
        c = dlq.counts(sqs, vq)
        print(f"{name:<13} {','.join(sorted(states)) or 'none':<10} {c['queued']:>7} {c['delayed']:>8}")
    return 0


def _pause_or_resume(lambda_client: Any, sqs: Any, queues: VendorQueues, enabled: bool) -> int:
    mappings = controls.event_source_mappings(lambda_client, sqs, queues)
    if not mappings:
        print(f"no event source mapping consumes the {queues.name} queue", file=sys.stderr)
        return 2
    verb = "resumed" if enabled else "paused"
    for mapping in controls.set_enabled(lambda_client, mappings, enabled):
        print(f"{verb} {queues.name}: event source mapping {mapping['UUID']} is {mapping['State']}")
    if not enabled:
        print(f"messages wait in the {queues.name} queue; `bridgectl vendor resume {queues.name}` delivers them")
    return 0


def _trace(dynamodb: Any, stack: str, event_id: str, provider: str | None, as_json: bool) -> int:
    from webhook_bridge.delivery_log import DeliveryLog
    from webhook_bridge.ops.trace import guess_provider, idempotency_table, render, trace

    table = idempotency_table(dynamodb, stack)
    if table is None:
        print(f"no idempotency table found for stack {stack!r}", file=sys.stderr)
        return 2
    result = trace(DeliveryLog(table, dynamodb), provider or guess_provider(event_id), event_id)
    if result is None:
        print(f"no trace of {event_id} (kept 7 days; is the provider right?)", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if as_json else render(result))
    return 0


def _preview(file: Path, mapping_file: Path | None, vendors: list[str] | None, as_json: bool) -> int:
    from webhook_bridge.mapping_config import MappingConfigError
    from webhook_bridge.ops.preview import PreviewError, preview, render

    try:
        document = json.loads(file.read_text(encoding="utf-8"))
        mapping = mapping_file.read_text(encoding="utf-8") if mapping_file else environment_value("BRIDGE_MAPPING")
        chosen = tuple(Vendor(v) for v in vendors) if vendors else None
        result = preview(document, mapping, chosen)
    except (OSError, ValueError, PreviewError, MappingConfigError) as error:
        print(f"bridgectl preview: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False) if as_json else render(result))
    return 0


def _from_stripe(args: argparse.Namespace, stripe: Any | None, sqs: Any) -> int:
    from webhook_bridge.ops.progress import ProgressBar
    from webhook_bridge.stripe_api import DEFAULT_BASE_URL, StripeLists
    from webhook_bridge.vendors.exceptions import VendorError

    queue = discover(sqs, args.stack).get(STRIPE_EVENTS)
    if queue is None:
        print(f"no Stripe events queue found for stack {args.stack!r}", file=sys.stderr)
        return 2
    if stripe is None:
        key = backfill.stripe_api_key(args.stack, _aws_client)
        if key is None:
            print("set STRIPE_API_KEY (a restricted key that reads events, customers, subscriptions)", file=sys.stderr)
            return 2
        stripe = StripeLists(key, environment_value("STRIPE_API_BASE_URL") or DEFAULT_BASE_URL)
    try:
        events = _stripe_events(args, stripe)
    except VendorError as error:  # its message names the route and Stripe's reason, masked
        print(f"bridgectl {args.command}: {error}", file=sys.stderr)
        return 1
    for event_type, count in sorted(backfill.count_types(events).items()):
        print(f"{count:>7}  {event_type}")
    if args.dry_run:
        print(f"would send {len(events)} event(s); nothing sent (--dry-run)")
        return 0
    bar = ProgressBar("sending", len(events))
    try:
        sent = backfill.enqueue(sqs, queue.queue_url, events, bar.advance)
    except backfill.QueueRefusedError as error:
        bar.finish()
        print(f"bridgectl {args.command}: {error}; run it again: what was sent is deduplicated", file=sys.stderr)
        return 1
    bar.finish()
    print(f"sent {sent} event(s) to the {queue.name} queue; already processed ones are deduplicated there")
    return 0


def _stripe_events(args: argparse.Namespace, stripe: Any) -> list[dict[str, Any]]:
    if args.command == "backfill":
        return backfill.oldest_first(stripe.events(int(args.since.timestamp())))
    read_at = int(time.time())
    customers = [backfill.imported_event(obj, read_at) for obj in stripe.customers()]
    read_at = int(time.time())
    return customers + [backfill.imported_event(obj, read_at) for obj in stripe.subscriptions()]


def _show(sqs: Any, queues: VendorQueues, limit: int, as_json: bool) -> int:
    letters = list(dlq.read(sqs, queues.dlq_url, limit))
    dlq.release(sqs, queues.dlq_url, letters)
    for letter in letters:
        _print_letter(letter, as_json)
    if as_json:
        return 0
    # SQS's count is approximate; it includes the messages just released.
    held = dlq.counts(sqs, queues)["dead_lettered"]
    if held > len(letters):
        print(f"{len(letters)} of about {held} message(s) in the {queues.name} DLQ; --limit {held} shows them all")
    else:
        print(f"{len(letters)} message(s) in the {queues.name} DLQ")
    return 0


def _print_letter(letter: dlq.DeadLetter, as_json: bool) -> None:
    summary = letter.summary()
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    print(f"{summary['message_id']}  {summary['event_type']}  attempts={summary['attempts']}")
    print(f"    reason: {summary['reason']}")
    print(f"    action: {summary['action_id']}")


def _redrive(sqs: Any, queues: VendorQueues, args: argparse.Namespace) -> int:
    selection = Selection(
        ids=frozenset(args.ids),
        reason=args.reason,
        status=args.status,
        event_types=tuple(args.event_types),
        since=args.since,
        until=args.until,
    )
    if selection.is_everything and not args.all:
        print(
            "choose messages: --all, --id, or a filter (--reason, --status, --event-type, --since, --until)",
            file=sys.stderr,
        )
        return 2
    if selection.is_everything and not args.dry_run and _moved_natively(sqs, queues):
        return 0
    # A message this run sends back may be dead-lettered again while it reads on, under a new id:
    # taken again, it would reach the vendor again, up to --limit times. Only what failed before.
    started = datetime.now(UTC)
    selection = replace(selection, until=min(selection.until, started) if selection.until else started)
    moved, kept = 0, []
    for letter in dlq.read(sqs, queues.dlq_url, args.limit):
        if not selection.matches(letter) or args.dry_run:
            kept.append(letter)
            if args.dry_run and selection.matches(letter):
                moved += 1
                _print_letter(letter, as_json=False)
            continue
        dlq.redrive(sqs, queues, letter)
        moved += 1
    dlq.release(sqs, queues.dlq_url, kept)
    done = "would redrive" if args.dry_run else "redrove"
    print(f"{done} {moved} message(s) to the {queues.name} queue")
    if selection.ids and moved < len(selection.ids):
        print(f"{len(selection.ids) - moved} requested message id(s) were not found in the DLQ", file=sys.stderr)
        return 1
    return 0


def _moved_natively(sqs: Any, queues: VendorQueues) -> bool:
    """SQS moves every message itself (no read, no size limit); False where it cannot (e.g. moto)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        handle = dlq.start_move_task(sqs, queues)
    except (ClientError, BotoCoreError, NotImplementedError) as error:
        print(f"StartMessageMoveTask is not available here ({type(error).__name__}): moving messages one by one")
        return False
    waiting = dlq.counts(sqs, queues)["dead_lettered"]
    print(f"SQS is moving the {queues.name} DLQ's {waiting} message(s) back to its queue (task {handle})")
    print("follow it with `bridgectl dlq list`")
    return True


if __name__ == "__main__":
    raise SystemExit(main())
