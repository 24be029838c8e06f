"""Cold starts, import-time offenders and peak memory, each function in a fresh interpreter.

A cold start is timed from the parent, from just before spawning ``.venv/bin/python
child.py`` to the moment its first answer arrives: interpreter start-up, imports,
configuration and the first invocation, against a moto server on 127.0.0.1 (secrets
from Secrets Manager through ``SECRET_ID``, as on AWS). The baseline is a process that
imports boto3, hashlib and json, checks the HMAC and makes one ``SendMessageBatch``.
Variants are interleaved, repetition by repetition, and the median is reported.

``python -X importtime`` runs of the same children give the import breakdown; separate
runs with a hundred warm invocations (twenty batches for delivery) give the peak resident
set after the cold invocation and after the warm ones: VmHWM from /proc/self/status, because
Linux's ``ru_maxrss`` also keeps the RSS of the image before ``exec``, i.e. of the (larger)
benchmark process that forked the child.
"""

from __future__ import annotations

import collections
import json
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    LAYER_DIR,
    MEMORY_LIMIT_MB,
    BenchResult,
    BenchStack,
    Figure,
    body_of,
    delivery_function,
    delivery_source,
    log,
    payload_for,
    receiver_function,
    reports,
    size,
    spawn_child,
    unique_token,
    vendor_records,
)
from devstack.support.events import webhook_event
from devstack.support.moto import MotoServer
from devstack.support.signing import TEST_SECRETS

REPEATS = size(5, 1)
WARMUP_ROUNDS = size(1, 0)  # rounds that only warm the OS page cache and moto
COLD_TARGET = 1.3
WARM_INVOCATIONS = size(60, 1)
WARM_BATCHES = size(20, 1)
DELIVERY_VENDOR = "customerio"
BATCH = delivery_source().batch_size  # a full batch, as the event source hands it over
VARIANTS = ("stripe", "typeform", "delivery", "baseline", "floor", "libraries")
BARE = ("baseline", "floor", "libraries")  # scripts in child.py: no app.py to load
FUNCTIONS = ("stripe", "typeform", "delivery")  # the real handlers (and what SnapStart restores)
RECEIVERS = ("stripe", "typeform")  # held to the cold-start target


class Children:
    """Spawns Lambda-like children for one moto server and one sandbox."""

    def __init__(self, stack: BenchStack, workdir: Path) -> None:
        self.stack = stack
        self.workdir = workdir
        self.token = unique_token()
        self.serial = 0

    def function(self, variant: str) -> str:
        if variant == "delivery":
            return delivery_function(DELIVERY_VENDOR)
        return receiver_function(provider_of(variant))

    def inputs(self, variant: str, warm: int) -> list[Any]:
        """Fresh ids every time: a cold start must not be answered by the dedupe record of an earlier one."""
        base = self.serial * 10_000
        if variant == "delivery":
            queue = self.stack.env(self.function(variant))["QUEUE_URL"]
            records = vendor_records(DELIVERY_VENDOR, BATCH * (1 + warm), self.token, queue, start=base)
            return [{"Records": records[i : i + BATCH]} for i in range(0, len(records), BATCH)]
        provider = provider_of(variant)
        return [webhook_event(provider, body_of(payload_for(provider, base + n, self.token))) for n in range(1 + warm)]

    def run(self, variant: str, warm: int = 0, importtime: bool = False, restored: bool = False) -> dict[str, Any]:
        """Spawn, time to the first answer, collect every report; raise unless every answer was a success.

        The memory runs (``warm`` invocations after the first) also note the botocore sessions and
        clients built. ``restored``: SnapStart emulated. The child initialises and runs its
        before-snapshot hooks, then waits; the time runs from the parent's go (the restore) to the
        first answer. Lambda's own restore of the snapshot's memory is not in it."""
        self.serial += 1
        input_path = self.workdir / f"{variant}-{self.serial}.json"
        input_path.write_text(json.dumps(self.inputs(variant, warm)), encoding="utf-8")
        config = {
            "mode": variant if variant in BARE else ("delivery" if variant == "delivery" else "receiver"),
            "input": str(input_path),
            "code_dir": str(self.stack.template.functions[self.function(variant)].code_dir),
            "layer_dir": str(LAYER_DIR),
            "queue_url": self.stack.delivery_env("loops")["QUEUE_URL"],
            "secret": TEST_SECRETS["stripe"],
            "count_clients": warm > 0,
            "restored": restored,
        }
        stderr_path = self.workdir / f"{variant}-{self.serial}.stderr"
        with stderr_path.open("wb") as stderr:
            started = time.perf_counter()
            process = spawn_child(
                config,
                self.stack.env(self.function(variant)),
                *(["-X", "importtime"] if importtime else []),
                stderr=stderr,
                stdin=subprocess.PIPE if restored else subprocess.DEVNULL,
            )
            assert process.stdout is not None
            if restored:
                assert process.stdin is not None
                process.stdout.readline()  # {"phase": "snapshot"}
                started = time.perf_counter()
                process.stdin.write("\n")
                process.stdin.close()
            first_line = process.stdout.readline()
            wall_ms = (time.perf_counter() - started) * 1000
            rest = process.stdout.read()
            code = process.wait()
        reported = reports(first_line + rest)
        if code != 0 or not reported:
            raise RuntimeError(f"{variant} child failed ({code}): {stderr_path.read_text(errors='replace')[-3000:]}")
        result: dict[str, Any] = {"wall_ms": wall_ms, "stderr": stderr_path, **{r["phase"]: r for r in reported}}
        statuses = [result["cold"]["status"], *result.get("warm", {}).get("statuses", [])]
        if any(status != 200 for status in statuses):
            raise RuntimeError(f"{variant}: invocations failed: {statuses} (first answer {result['cold']})")
        return result


def provider_of(variant: str) -> str:
    return "typeform" if variant == "typeform" else "stripe"


# -- python -X importtime ------------------------------------------------------------------

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_profile(stderr: str) -> dict[str, Any]:
    """Self time per top-level package and the heaviest direct imports (ms)."""
    by_package: collections.Counter[str] = collections.Counter()
    modules: list[tuple[float, float, int, str]] = []
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if not match:
            continue
        self_us, cumulative_us, indent, name = int(match[1]), int(match[2]), len(match[3]), match[4]
        by_package[name.split(".")[0]] += self_us
        modules.append((cumulative_us / 1000, self_us / 1000, indent, name))
    return {
        "total_ms": sum(by_package.values()) / 1000,
        "by_package_ms": {name: us / 1000 for name, us in by_package.most_common()},
        "modules": modules,
    }


def import_offenders(real: dict[str, Any], floor: dict[str, Any], top: int = 10) -> list[dict[str, Any]]:
    """Packages the function imports beyond the baseline's, by self time (what making lazy would save)."""
    extra = []
    for name, ms in real["by_package_ms"].items():
        beyond = ms - floor["by_package_ms"].get(name, 0.0)
        if beyond > 0.5:
            extra.append({"package": name, "self_ms": round(ms, 1), "beyond_baseline_ms": round(beyond, 1)})
    extra.sort(key=lambda row: row["beyond_baseline_ms"], reverse=True)
    return extra[:top]


def _interpreter(root: str) -> bool:
    """The interpreter's own start-up imports, which every process makes."""
    return root in ("site", "encodings", "__future__") or root.startswith("_")


def heaviest_first_party(real: dict[str, Any], top: int = 12) -> list[dict[str, Any]]:
    """Imports made by the function's own code (webhook_bridge, app) and what each pulled in (cumulative ms)."""
    rows = []
    for cumulative, self_ms, indent, name in real["modules"]:
        root = name.split(".")[0]
        if root in ("webhook_bridge", "app") or (indent <= 2 and not _interpreter(root)):
            rows.append({"module": name, "cumulative_ms": round(cumulative, 1), "self_ms": round(self_ms, 1)})
    rows.sort(key=lambda row: row["cumulative_ms"], reverse=True)
    return rows[:top]


def third_party_pulled_in(real: dict[str, Any], top: int = 12) -> list[dict[str, Any]]:
    """The outermost third-party imports (imported straight from first-party code) by cumulative ms."""
    rows: dict[str, float] = {}
    stack: list[tuple[int, str]] = []
    # importtime prints children before parents; walk backwards to know each module's importer.
    for cumulative, _, indent, name in reversed(real["modules"]):
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else "app"
        root, parent_root = name.split(".")[0], parent.split(".")[0]
        first_party = ("webhook_bridge", "app", "__editable__")
        imported_by_us = parent_root in ("webhook_bridge", "app") or not stack
        if root not in first_party and imported_by_us and not _interpreter(root):
            rows[name] = max(rows.get(name, 0.0), cumulative)
        stack.append((indent, name))
    ordered = sorted(rows.items(), key=lambda item: item[1], reverse=True)
    return [{"module": name, "cumulative_ms": round(ms, 1)} for name, ms in ordered[:top]]


# -- the benchmark -------------------------------------------------------------------------


def run() -> BenchResult:
    from devstack.sandbox import SandboxServer

    with (
        tempfile.TemporaryDirectory(prefix="bench-cold-") as workdir,
        MotoServer() as moto,
        SandboxServer(host="127.0.0.1", port=0) as sandbox,
    ):
        children = Children(BenchStack(moto.endpoint, sandbox.as_env()), Path(workdir))

        samples: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
        for repeat in range(WARMUP_ROUNDS + REPEATS):
            order = VARIANTS[repeat % len(VARIANTS) :] + VARIANTS[: repeat % len(VARIANTS)]
            for variant in order:
                result = children.run(variant)
                if repeat >= WARMUP_ROUNDS:
                    samples[variant].append(result)
            log(f"cold_start: round {repeat + 1}/{WARMUP_ROUNDS + REPEATS}")

        restored: dict[str, list[float]] = {variant: [] for variant in FUNCTIONS}
        for _ in range(REPEATS):
            for variant in FUNCTIONS:
                restored[variant].append(children.run(variant, restored=True)["wall_ms"])
        log("cold_start: SnapStart, emulated, done")

        profiled = ("stripe", "typeform", "delivery", "baseline")
        profiles = {variant: children.run(variant, importtime=True) for variant in profiled}
        imports = {v: import_profile(r["stderr"].read_text(errors="replace")) for v, r in profiles.items()}
        log("cold_start: import profiles done; memory runs")
        memory = {v: children.run(v, warm=WARM_BATCHES if v == "delivery" else WARM_INVOCATIONS) for v in FUNCTIONS}
        requests = sandbox.requests(DELIVERY_VENDOR)
        if any(r["status"] >= 300 for r in requests):
            raise RuntimeError("the sandbox refused some delivery calls: " + str([r["status"] for r in requests][:20]))

    def median(variant: str, key: str) -> float:
        values = [s["wall_ms"] if key == "wall_ms" else s["cold"][key] for s in samples[variant]]
        return statistics.median(values)

    floor = median("baseline", "wall_ms")
    baseline_rss = statistics.median(s["cold"]["peak_rss_mb"] for s in samples["baseline"])
    offenders = import_offenders(imports["stripe"], imports["baseline"])
    top_offenders = ", ".join(f"{row['package']} {row['beyond_baseline_ms']:.0f} ms" for row in offenders[:4])

    def receiver_note(variant: str) -> str:
        sessions = memory[variant]["cold"]["botocore_sessions"]
        return (
            f"loading app.py takes {median(variant, 'init_ms'):.0f} ms and the first invocation "
            f"{median(variant, 'first_ms'):.0f} ms (it builds "
            f"{len(memory[variant]['cold']['clients'])} boto3 clients from "
            f"{sessions} botocore session{'' if sessions == 1 else 's'}), against "
            f"{floor:.0f} ms for "
            f"the baseline's whole run; imports beyond the baseline's (self time): {top_offenders}"
        )

    # The handlers, then two floors: what the receiver's AWS work costs alone, and what its libraries cost alone.
    figures = [
        Figure(
            f"cold_start.{variant}",
            f"{label} (fresh process → first answer)",
            *(median(variant, "wall_ms"), "ms", floor),
            "ratio_max" if variant in RECEIVERS else "",
            COLD_TARGET if variant in RECEIVERS else None,
            note,
        )
        for variant, label, note in (
            ("stripe", "Receiver cold, Stripe", receiver_note("stripe")),
            ("typeform", "Receiver cold, Typeform", receiver_note("typeform")),
            ("delivery", f"Delivery cold, batch of {BATCH}", ""),
            (
                "floor",
                "Receiver's AWS calls alone, bare boto3",
                "the Stripe receiver's secret read, 3 DynamoDB writes and 4 sends, without powertools or pydantic",
            ),
            (
                "libraries",
                "The baseline's work behind powertools and pydantic, none of ours",
                "Logger, Metrics and the HTTP resolver route the request and a pydantic model reads it: the "
                "toolkit every handler here is built on, so no receiver that keeps it starts faster",
            ),
        )
    ]
    for variant, label in (
        ("stripe", "Receiver cold with SnapStart, Stripe"),
        ("typeform", "Receiver cold with SnapStart, Typeform"),
        ("delivery", f"Delivery cold with SnapStart, batch of {BATCH}"),
    ):
        figures.append(
            Figure(
                f"cold_start.snapstart.{variant}",
                f"{label} (emulated: restore → first answer)",
                statistics.median(restored[variant]),
                "ms",
                floor,
                note="before-snapshot hooks run, then timed from the go; Lambda's memory restore not included",
            )
        )
    for variant, label in (("stripe", "Stripe receiver"), ("typeform", "Typeform receiver"), ("delivery", "Delivery")):
        warm_label = f"{WARM_INVOCATIONS} warm" if variant != "delivery" else f"{WARM_BATCHES} warm batches of {BATCH}"
        for phase, report, when in (
            ("cold", "cold", "after the cold invocation"),
            ("warm", "memory", f"after {warm_label}"),
        ):
            figures.append(
                Figure(
                    f"memory.{variant}.{phase}",
                    f"Peak memory (peak RSS), {label}, {when}",
                    *(memory[variant][report]["peak_rss_mb"], "MB", baseline_rss, "value_max", MEMORY_LIMIT_MB),
                )
            )

    details = {
        "repeats": REPEATS,
        "samples_wall_ms": {v: [round(s["wall_ms"], 1) for s in samples[v]] for v in VARIANTS},
        "init_ms_median": {v: median(v, "init_ms") for v in VARIANTS if v not in BARE},
        "first_invocation_ms_median": {v: median(v, "first_ms") for v in VARIANTS if v not in BARE},
        "import_total_ms": {v: round(p["total_ms"], 1) for v, p in imports.items()},
        "import_offenders_stripe": offenders,
        # Kept in docs/benchmarks.md's results comment, so the next run shows what moved.
        "import_beyond_baseline_ms": {
            variant: {
                row["package"]: row["beyond_baseline_ms"]
                for row in import_offenders(imports[variant], imports["baseline"], top=12)
            }
            for variant in FUNCTIONS
        },
        "import_first_party_stripe": heaviest_first_party(imports["stripe"]),
        "import_third_party_delivery": third_party_pulled_in(imports["delivery"]),
        "warm_over_http_ms": {v: statistics.median(memory[v]["warm"]["durations_ms"]) for v in FUNCTIONS},
        "baseline_peak_rss_mb": baseline_rss,
        "first_invocation_clients": {
            v: {"botocore_sessions": memory[v]["cold"]["botocore_sessions"], "clients": memory[v]["cold"]["clients"]}
            for v in FUNCTIONS
        },
        "ru_maxrss_mb": {
            "baseline": statistics.median(s["cold"]["ru_maxrss_mb"] for s in samples["baseline"]),
            **{v: memory[v]["memory"]["ru_maxrss_mb"] for v in FUNCTIONS},
        },
    }
    return BenchResult(figures, details)
