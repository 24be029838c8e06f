"""`make bench` end to end at its smallest sizes (``python -m benchmarks --smoke``).

Every job runs, cost and the report are built from what the jobs return, and each figure,
target verdict and section of the report is there. Nothing is timed: a smoke run measures
nothing, so only the structure and what must hold whatever the timing are checked. The
report is written to a temporary file; docs/benchmarks.md is left alone.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
RECEIVERS = ("stripe", "typeform")
TARGETED = {  # figures held to a target: each must carry a verdict
    *(f"receiver_warm.{p}.{q}" for p in RECEIVERS for q in ("p50", "p99")),
    *(f"cold_start.{p}" for p in RECEIVERS),
    *(f"memory.{f}.{phase}" for f in (*RECEIVERS, "delivery") for phase in ("cold", "warm")),
    "memory.delivery.loops_instance",
    "delivery.batch10.unpaced",
    "delivery.batch10.customerio_deployed",
    "delivery.loops.throughput",
    "delivery.loops.throttled",
    *(f"cost.{p}.{scenario}" for p in RECEIVERS for scenario in ("steady", "burst")),
}
INFORMATIVE = {
    *(f"receiver_warm.{p}.calls" for p in RECEIVERS),
    *(f"cold_start.{v}" for v in ("delivery", "floor", "libraries")),
    *(f"cold_start.snapstart.{v}" for v in (*RECEIVERS, "delivery")),
    "delivery.batch10.aws_stubbed",
    "delivery.batch10.convertloop_deployed",
    *(f"end_to_end.{q}" for q in ("p50", "p99", "accept_p50")),
    *(f"cost.{p}.{figure}" for p in RECEIVERS for figure in ("guarantee_floor", "best_candidate")),
}
SECTIONS = [
    "## Machine",
    "## Run to run",
    "## Missed targets: the gap and its cause",
    "### Receiver, warm: Stripe customer.created",
    "### Receiver, warm: Typeform form_response",
    "### Cold start and memory",
    "### Delivery",
    "### End to end (`make dev`)",
    "### Cost per million webhooks",
    "Options, modelled from this run's measurements",
    "The floor under the guarantees",
]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], str]:
    doc = tmp_path_factory.mktemp("bench") / "benchmarks.md"
    published = (ROOT / "docs" / "benchmarks.md").read_bytes()
    doc.write_bytes(published)  # a previous run to compare with, as make bench finds one
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "shared" / "python"), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--doc", str(doc)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert (ROOT / "docs" / "benchmarks.md").read_bytes() == published
    return done, doc.read_text(encoding="utf-8")


def recorded_figures(doc: str) -> dict[str, dict[str, Any]]:
    match = re.search(r"<!-- bench-results\n(.*?)\n-->", doc, re.S)
    assert match, "the report records no results"
    figures: dict[str, dict[str, Any]] = json.loads(match[1])["figures"]
    return figures


def test_every_job_runs_and_the_report_is_written(smoke_run: tuple[subprocess.CompletedProcess[str], str]) -> None:
    done, doc = smoke_run
    assert done.returncode == 0, done.stderr[-4000:]
    assert "FAILED" not in done.stderr + done.stdout
    assert f"{len(TARGETED)} targets met" in done.stdout
    assert [section for section in SECTIONS if section not in doc] == []
    assert "Compared with the previous run" in doc


def test_every_figure_is_reported_with_its_verdict(smoke_run: tuple[subprocess.CompletedProcess[str], str]) -> None:
    figures = recorded_figures(smoke_run[1])
    assert set(figures) == TARGETED | INFORMATIVE
    assert {key for key, f in figures.items() if f["status"] != "info"} == TARGETED
    assert {f["status"] for f in figures.values()} <= {"PASS", "GAP", "info"}
    for key, figure in figures.items():
        assert figure["value"] is not None and math.isfinite(figure["value"]) and figure["value"] >= 0, key


def test_what_holds_whatever_the_timing(smoke_run: tuple[subprocess.CompletedProcess[str], str]) -> None:
    figures = recorded_figures(smoke_run[1])
    for provider in RECEIVERS:
        # The bare baseline replays exactly the receiver's AWS calls.
        assert figures[f"receiver_warm.{provider}.calls"]["ratio"] == 1.0
        steady, floor = figures[f"cost.{provider}.steady"], figures[f"cost.{provider}.guarantee_floor"]
        assert floor["value"] < steady["value"]
    assert 0 <= figures["delivery.loops.throttled"]["value"] <= 100
    assert 0 < figures["memory.stripe.cold"]["value"] <= figures["memory.stripe.warm"]["value"]
