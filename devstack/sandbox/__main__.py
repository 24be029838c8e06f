"""`python -m devstack.sandbox --port 4010`: run the vendor sandbox on its own."""

from __future__ import annotations

import argparse
import shlex
import sys

from devstack.sandbox.config import SandboxCredentials
from devstack.sandbox.server import SandboxServer
from devstack.sandbox.vendors import DOCUMENTED_RATE_LIMIT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4010, help="port (default 4010; 0 picks a free one)")
    parser.add_argument(
        "--loops-rate-limit",
        type=int,
        default=DOCUMENTED_RATE_LIMIT,
        help=f"Loops requests per second (default {DOCUMENTED_RATE_LIMIT}, as documented; 0 disables)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    server = SandboxServer(
        args.host,
        args.port,
        SandboxCredentials(),
        loops_rate_limit=args.loops_rate_limit or None,
        access_log=args.access_log,
    ).start()
    print(f"Vendor sandbox on {server.url} - requests at {server.url}/_sandbox/", file=sys.stderr)
    print("# Point the bridge at it:", file=sys.stderr)
    for name, value in server.as_env().items():
        print(f"export {name}={shlex.quote(value)}")
    sys.stdout.flush()
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
