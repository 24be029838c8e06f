"""Functions run like Lambda runs them: own process, own environment, one invocation at a time."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from devstack.functions import FunctionRuntime

from .conftest import wait_until, write_code

ENV_HANDLER = """
import os, time

def lambda_handler(event, context):
    print("this print must not break the protocol")
    return {
        "vendor": os.environ.get("VENDOR"),
        "queue": os.environ.get("QUEUE_URL"),
        "module": __name__,
        "pid": os.getpid(),
        "context": {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "remaining": context.get_remaining_time_in_millis(),
            "log_group_name": context.log_group_name,
        },
    }
"""


def test_each_function_sees_only_its_own_environment(runtime_factory: Any) -> None:
    loops = runtime_factory(ENV_HANDLER, name="Loops", code_dir="loops", env={"VENDOR": "loops", "QUEUE_URL": "q1"})
    segmetrics = runtime_factory(
        ENV_HANDLER, name="SegMetrics", code_dir="segmetrics", env={"VENDOR": "segmetrics", "QUEUE_URL": "q2"}
    )
    results: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()

    def call(runtime: FunctionRuntime, expected: str) -> None:
        for _ in range(10):
            payload = runtime.invoke({}).payload
            with lock:
                results.append((expected, payload))

    threads = [
        threading.Thread(target=call, args=(rt, v)) for rt, v in [(loops, "loops"), (segmetrics, "segmetrics")] * 2
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 40
    assert all(payload["vendor"] == expected for expected, payload in results)
    assert {p["queue"] for e, p in results if e == "loops"} == {"q1"}


def test_handler_module_has_a_unique_name_and_a_lambda_context(runtime_factory: Any) -> None:
    runtime = runtime_factory(ENV_HANDLER, name="Stripe", code_dir="stripe_webhook", timeout=7)
    result = runtime.invoke({"hello": "world"})
    assert result.ok, result.error
    assert result.payload["module"] == "fn_stripe_webhook_app"
    context = result.payload["context"]
    assert context["function_name"] == "local-Stripe"
    assert context["memory_limit_in_mb"] == "128"  # a string, as in Lambda's Python runtime
    assert context["invoked_function_arn"].endswith(":function:local-Stripe")
    assert context["aws_request_id"] == result.request_id
    assert 0 < context["remaining"] <= 7000
    assert context["log_group_name"] == "/aws/lambda/local-Stripe"


def test_the_environment_is_reused_between_invocations(runtime_factory: Any) -> None:
    runtime = runtime_factory(ENV_HANDLER)
    first, second = runtime.invoke({}), runtime.invoke({})
    assert first.payload["pid"] == second.payload["pid"]
    assert runtime.cold_starts == 1


FAILING_HANDLER = """
import os, time
def lambda_handler(event, context):
    if event.get("raise"):
        raise ValueError("boom")
    if event.get("hang"):
        time.sleep(60)
    if event.get("crash"):
        os._exit(3)
    return os.getpid()
"""


@pytest.mark.parametrize(
    ("event", "error_type", "message", "fresh_environment"),
    [
        ({"raise": True}, "ValueError", "boom", False),
        ({"hang": True}, "Sandbox.Timedout", "Task timed out after 0.50 seconds", True),  # Lambda stops it
        ({"crash": True}, "Runtime.ExitError", "exit status 3", True),
    ],
    ids=["exception", "timeout", "crash"],
)
def test_a_failed_invocation_is_a_lambda_error_and_the_next_one_runs(
    runtime_factory: Any, event: dict[str, bool], error_type: str, message: str, fresh_environment: bool
) -> None:
    runtime = runtime_factory(FAILING_HANDLER, timeout=0.5)
    before = runtime.invoke({}).payload
    result = runtime.invoke(event)
    assert result.error_type == error_type
    assert result.error is not None and message in result.error["errorMessage"]
    if error_type == "ValueError":
        assert result.error["stackTrace"]
    after = runtime.invoke({})
    assert after.ok and (after.payload != before) is fresh_environment


def test_results_go_through_json_like_lambda(runtime_factory: Any) -> None:
    handler = """
import decimal
def lambda_handler(event, context):
    if event.get("bad"):
        return object()
    return {"amount": decimal.Decimal("12.5"), "items": (1, 2)}
"""
    runtime = runtime_factory(handler)
    assert runtime.invoke({}).payload == {"amount": 12.5, "items": [1, 2]}
    assert runtime.invoke({"bad": True}).error_type == "Runtime.MarshalError"


def test_init_errors(runtime_factory: Any, tmp_path: Path) -> None:
    assert runtime_factory("import nonexistent_module\n", code_dir="a").invoke({}).error_type == (
        "Runtime.ImportModuleError"
    )
    assert runtime_factory("def broken(:\n", code_dir="b").invoke({}).error_type == "Runtime.UserCodeSyntaxError"
    assert runtime_factory("x = 1\n", code_dir="c").invoke({}).error_type == "Runtime.HandlerNotFound"


def test_fixed_code_is_picked_up_with_reload(runtime_factory: Any, tmp_path: Path) -> None:
    runtime = runtime_factory("raise RuntimeError('not yet')\n", code_dir="reload", reload=True)
    assert not runtime.invoke({}).ok
    write_code(tmp_path / "reload", "def lambda_handler(event, context):\n    return 'fixed'\n")
    assert wait_until(lambda: runtime.invoke({}).ok, timeout=10)


def test_concurrency_is_capped_and_environments_are_reused(runtime_factory: Any, tmp_path: Path) -> None:
    gate = tmp_path / "open"
    handler = f"""
import os, time
def lambda_handler(event, context):
    deadline = time.time() + 20
    while not os.path.exists({str(gate)!r}) and time.time() < deadline:
        time.sleep(0.01)
    return os.getpid()
"""
    runtime = runtime_factory(handler, max_concurrency=2)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(runtime.invoke({}))) for _ in range(5)]
    for thread in threads:
        thread.start()
    assert wait_until(lambda: runtime.in_flight == 2, timeout=20)
    assert runtime.in_flight == 2  # the other three wait for a free environment
    gate.touch()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 5 and all(r.ok for r in results)
    assert len({r.payload for r in results}) == 2
    assert runtime.cold_starts == 2


def test_prints_and_logs_reach_the_log_sink(runtime_factory: Any) -> None:
    lines: list[tuple[str, str]] = []
    runtime = runtime_factory(
        "import sys\ndef lambda_handler(e, c):\n    print('out')\n    sys.stderr.write('err\\n')\n    return 1\n",
        name="Fn",
        log_sink=lambda source, line: lines.append((source, line)),
    )
    assert runtime.invoke({}).payload == 1
    assert wait_until(lambda: ("Fn", "out") in lines and ("Fn", "err") in lines, timeout=5)
