"""moto's ThreadedMotoServer in its own process: ``python -m devstack.moto_server PORT``.

Prints ``{"port": N}`` once it accepts connections and serves until its stdin
closes, so it never outlives the stack that started it (even after a kill -9).
moto's application is wrapped in :mod:`devstack.aws_faults`, so tests can inject AWS errors.

Why a separate process: moto keeps its state in module globals, so a server inside a
test process would share (and lose, on ``mock_aws`` exit) its queues with every
``mock_aws`` test there; and the emulated AWS calls would compete for one GIL with
the HTTP API and the pollers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading


def main(argv: list[str]) -> int:
    port = int(argv[1]) if len(argv) > 1 else 0
    _detach_sqs_event_sources()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us by closing stdin
    # Werkzeug logs every request at INFO when nothing is configured; the stack has its own log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from devstack.atomic_dynamodb import make_dynamodb_writes_atomic
    from devstack.aws_faults import AwsFaults

    make_dynamodb_writes_atomic()  # the server handles each request on its own thread
    # What moto's ThreadedMotoServer does, with the fault injector in front of moto's app.
    server = make_server("127.0.0.1", port, AwsFaults(DomainDispatcherApplication(create_backend_app)), threaded=True)
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    sys.stdout.write(json.dumps({"port": server.server_port}) + "\n")
    sys.stdout.flush()
    sys.stdin.read()
    # Long polls still waiting inside moto would delay a normal shutdown; nothing needs saving.
    os._exit(0)


def _detach_sqs_event_sources() -> None:
    """The stack's pollers are the SQS event sources: moto keeps the mappings' state for the
    Lambda API, but must not receive messages and invoke functions itself (it would need
    Docker, and would race the pollers). Its queues then see no mapping at all."""
    from moto.sqs.models import Queue

    Queue.lambda_event_source_mappings = property(lambda queue: {}, lambda queue, value: None)  # type: ignore[assignment]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
