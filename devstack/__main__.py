"""``python -m devstack`` (``make dev``): the whole bridge on this machine, no Docker, no AWS.

Runs template.yaml's HTTP API on 127.0.0.1:$PORT through the real handlers, SQS and
DynamoDB in moto, the delivery functions fed from their queues with Lambda's batch
semantics, and the vendor sandbox for every vendor without credentials. Ctrl-C stops.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from devstack.environment import DEV_WEBHOOK_SECRETS, mask
from devstack.stack import Stack, find_template
from devstack.state import default_state_path
from devstack.template import TemplateError

SANDBOX_PAGE = "/_sandbox/"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help="HTTP API port ($PORT)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="set in every function")
    parser.add_argument("--no-sandbox", action="store_true", help="vendors without credentials stay disabled")
    parser.add_argument("--no-reload", action="store_true", help="keep environments when the code changes")
    parser.add_argument("--no-timeouts", action="store_true", help="do not stop functions at their Timeout")
    parser.add_argument("--quiet", action="store_true", help="no line per request and per batch")
    return parser.parse_args(argv)


def _assignments(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise SystemExit(f"--env expects NAME=VALUE, got {value!r}")
        pairs[name] = rest
    return pairs


def banner(stack: Stack, state_file: Path) -> str:
    assert stack.template is not None and stack.configuration is not None and stack.resources is not None
    template, config = stack.template, stack.configuration
    lines = [f"Webhook Bridge dev stack  ({template.path.name}, stack {template.stack_name})", ""]
    lines.append(f"  HTTP API        {stack.api_url}")
    for route in template.routes:
        lines.append(f"    {route.method:<6} {stack.route_url(route.function):<48} -> {route.function}")
    if stack.sandbox is not None:
        names = ", ".join(v.display_name for v in config.sandboxed_vendors)
        lines.append(f"  Vendor sandbox  {stack.sandbox.url}{SANDBOX_PAGE}  ({names}: no credentials set)")
    if config.live_vendors:
        live = ", ".join(v.display_name for v in config.live_vendors)
        lines.append(f"  Live vendors    {live} (credentials from the environment)")
    if config.disabled_vendors:
        lines.append(f"  Disabled        {', '.join(v.display_name for v in config.disabled_vendors)} (no credentials)")
    lines.append(f"  AWS (moto)      {stack.aws_endpoint}  region {stack.region}, any access key")
    for source in template.event_sources:
        queue = stack.resources.queues[source.queue]
        dlq = (
            f", DLQ {queue.dead_letter_queue} after {queue.max_receive_count} receives"
            if queue.max_receive_count
            else ""
        )
        lines.append(
            f"    {source.queue} -> {source.function} (batch {source.batch_size}, window "
            f"{source.batching_window_seconds:g}s, concurrency {stack.pollers[source.queue].max_concurrency}{dlq})"
        )
    for table in stack.resources.tables.values():
        lines.append(f"    table {table.name} (key {table.partition_key}, TTL {table.ttl_attribute or '-'})")
    lines.append("  Webhook secrets")
    for name in DEV_WEBHOOK_SECRETS:
        value, own = config.values[name], name in config.secrets_from_environment
        lines.append(f"    {name}=" + (f"{mask(value)} (from the environment)" if own else f"{value}  (dev default)"))
    stripe_route = next((r for r in template.routes if "stripe" in r.path), None)
    if stripe_route is not None:
        lines.append("  Stripe CLI      stripe listen --forward-to " + stack.route_url(stripe_route.function))
        lines.append("                  (start with STRIPE_WEBHOOK_SECRET=$(stripe listen --print-secret) make dev)")
    lines.append("  Send a webhook  .venv/bin/python -m devstack.send stripe customer.created")
    if "StripeEventsQueue" in stack.resources.queues:
        lines.append("  Via EventBridge .venv/bin/python -m devstack.send eventbridge customer.created")
    lines.append(f"  DLQs            AWS_ENDPOINT_URL={stack.aws_endpoint} .venv/bin/bridgectl dlq list")
    lines.append(f"  State file      {state_file}")
    for note in config.warnings:
        lines.append(f"  note: {note}")
    for name, runtime in stack.runtimes.items():
        if error := runtime.init_error:
            lines.append(f"  FAILED TO START {name}: {error.get('errorType')}: {error.get('errorMessage')} (see above)")
    return "\n".join([*lines, "", "Ctrl-C to stop."])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
    )
    template_path = find_template().resolve()
    if not template_path.is_file():
        print(f"no template at {template_path}", file=sys.stderr)
        return 2
    state_file = default_state_path(template_path.parent)
    stack = Stack(
        port=args.port,
        env_overrides=_assignments(args.env),
        template=template_path,
        use_process_env=True,
        sandbox=not args.no_sandbox,
        enforce_timeouts=not args.no_timeouts,
        reload=not args.no_reload,
        state_file=state_file,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()
        # A second Ctrl-C while stopping interrupts for real; the children exit when we do.
        signal.signal(signal.SIGINT, signal.default_int_handler)

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), request_stop)
    try:
        stack.start()
    except TemplateError as error:
        print(f"template.yaml: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"cannot start the local stack: {error} (is port {args.port} in use? PORT=... make dev)", file=sys.stderr)
        return 1
    except RuntimeError as error:
        print(f"cannot start the local stack: {error}", file=sys.stderr)
        return 1
    try:
        print(banner(stack, state_file), flush=True)
        stop.wait()
        print("\nstopping…", file=sys.stderr, flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
