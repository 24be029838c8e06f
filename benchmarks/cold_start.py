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
    CHILD,
    LAYER_DIR,
    PYTHON,
    STRIPE_SECRET,
    BenchResult,
    BenchStack,
    Figure,
    body_of,
    log,
    payload_for,
    receiver_function,
    unique_token,
    vendor_records,
)
from devstack.support.events import webhook_event
from devstack.support.moto import MotoServer

REPEATS = 5
COLD_TARGET = 1.3
MEMORY_LIMIT_MB = 128
WARM_INVOCATIONS = 60
WARM_BATCHES = 20
DELIVERY_VENDOR = "customerio"
VARIANTS = ("stripe", "typeform", "delivery", "baseline", "floor", "libraries")
BARE = ("baseline", "floor", "libraries")  # scripts in child.py: no app.py to load
RESTORED = ("stripe", "typeform", "delivery")


class Children:
    """Spawns Lambda-like children for one moto server and one sandbox."""

    def __init__(self, stack: BenchStack, workdir: Path) -> None:
        self.stack = stack
        self.workdir = workdir
        self.token = unique_token()
        self.serial = 0

    def function(self, variant: str) -> str:
        if variant == "delivery":
            return self.stack.delivery_function(DELIVERY_VENDOR)
        return receiver_function("typeform" if variant == "typeform" else "stripe")

    def env(self, variant: str) -> dict[str, str]:
        return self.stack.env(self.function(variant))

    def inputs(self, variant: str, warm: int) -> list[Any]:
        """Fresh ids every time: a cold start must not be answered by the dedupe record of an earlier one."""
        self.serial += 1
        base = self.serial * 10_000
        if variant == "delivery":
            queue = self.env(variant)["QUEUE_URL"]
            records = vendor_records(DELIVERY_VENDOR, 10 * (1 + warm), self.token, queue, start=base)
            return [{"Records": records[i : i + 10]} for i in range(0, len(records), 10)]
        provider = "typeform" if variant == "typeform" else "stripe"
        return [webhook_event(provider, body_of(payload_for(provider, base + n, self.token))) for n in range(1 + warm)]

    def command(
        self, variant: str, input_path: Path, importtime: bool = False, count: bool = False, restored: bool = False
    ) -> list[str]:
        config = {
            "mode": variant if variant in BARE else ("delivery" if variant == "delivery" else "receiver"),
            "input": str(input_path),
            "code_dir": str(self.stack.template.functions[self.function(variant)].code_dir),
            "layer_dir": str(LAYER_DIR),
            "queue_url": self.stack.delivery_env("loops")["QUEUE_URL"],
            "secret": STRIPE_SECRET,
            "count_clients": count,
            "restored": restored,
        }
        return [PYTHON, *(["-X", "importtime"] if importtime else []), str(CHILD), json.dumps(config)]

    def run(self, variant: str, warm: int = 0, importtime: bool = False, restored: bool = False) -> dict[str, Any]:
        # The memory runs (with warm invocations) also note the botocore sessions and clients built.
        """Spawn, time to the first answer, collect every report; raise unless every answer was a success.

        ``restored``: SnapStart emulated. The child initialises and runs its before-snapshot hooks,
        then waits; the time runs from the parent's go (the restore) to the first answer. Lambda's
        own restore of the snapshot's memory is not in it."""
        input_path = self.workdir / f"{variant}-{self.serial}.json"
        input_path.write_text(json.dumps(self.inputs(variant, warm)), encoding="utf-8")
        stderr_path = self.workdir / f"{variant}-{self.serial}.stderr"
        with stderr_path.open("wb") as stderr:
            started = time.perf_counter()
            process = subprocess.Popen(  # noqa: S603 - our interpreter and our script
                self.command(variant, input_path, importtime, count=warm > 0, restored=restored),
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.PIPE if restored else subprocess.DEVNULL,
                env=self.env(variant),
                text=True,
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
        reports = [json.loads(line) for line in [first_line, *rest.splitlines()] if line.strip()]
        if code != 0 or not reports:
            raise RuntimeError(f"{variant} child failed ({code}): {stderr_path.read_text(errors='replace')[-3000:]}")
        cold = reports[0]
        self._check(variant, cold)
        result = {"wall_ms": wall_ms, "cold": cold, "stderr": stderr_path}
        for report in reports[1:]:
            result[report["phase"]] = report
        warm_report = result.get("warm")
        if warm_report and any(status != 200 for status in warm_report["statuses"]):
            raise RuntimeError(f"{variant}: warm invocations failed: {warm_report['statuses']}")
        return result

    @staticmethod
    def _check(variant: str, cold: dict[str, Any]) -> None:
        if variant == "delivery":
            response = cold.get("response") or {}
            if response.get("batchItemFailures"):
                raise RuntimeError(f"delivery cold batch failed: {response}")
        elif cold.get("status") != 200:
            raise RuntimeError(f"{variant} cold answer was {cold}")


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


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def import_offenders(real: dict[str, Any], floor: dict[str, Any], top: int = 10) -> list[dict[str, Any]]:
    """Packages the function imports beyond the baseline's, by self time (what making lazy would save)."""
    extra = []
    for name, ms in real["by_package_ms"].items():
        beyond = ms - floor["by_package_ms"].get(name, 0.0)
        if beyond > 0.5:
            extra.append({"package": name, "self_ms": round(ms, 1), "beyond_baseline_ms": round(beyond, 1)})
    extra.sort(key=lambda row: row["beyond_baseline_ms"], reverse=True)
    return extra[:top]


def heaviest_first_party(real: dict[str, Any], top: int = 12) -> list[dict[str, Any]]:
    """Imports made by the function's own code (webhook_bridge, app) and what each pulled in (cumulative ms)."""
    rows = []
    for cumulative, self_ms, indent, name in real["modules"]:
        root = name.split(".")[0]
        interpreter = root in ("site", "encodings", "__future__") or root.startswith("_")
        if root in ("webhook_bridge", "app") or (indent <= 2 and not interpreter):
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
        interpreter = root in ("encodings", "site", "__future__") or root.startswith("_")
        if root not in first_party and imported_by_us and not interpreter:
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
        for repeat in range(REPEATS + 1):  # the first round only warms the OS page cache and moto
            order = VARIANTS[repeat % len(VARIANTS) :] + VARIANTS[: repeat % len(VARIANTS)]
            for variant in order:
                result = children.run(variant)
                if repeat:
                    samples[variant].append(result)
            log(f"cold_start: round {repeat + 1}/{REPEATS + 1}")

        restored: dict[str, list[float]] = {variant: [] for variant in RESTORED}
        for _ in range(REPEATS):
            for variant in RESTORED:
                restored[variant].append(children.run(variant, restored=True)["wall_ms"])
        log("cold_start: SnapStart, emulated, done")

        profiled = ("stripe", "typeform", "delivery", "baseline")
        profiles = {variant: children.run(variant, importtime=True) for variant in profiled}
        imports = {v: import_profile(r["stderr"].read_text(errors="replace")) for v, r in profiles.items()}
        log("cold_start: import profiles done; memory runs")
        memory = {
            "stripe": children.run("stripe", warm=WARM_INVOCATIONS),
            "typeform": children.run("typeform", warm=WARM_INVOCATIONS),
            "delivery": children.run("delivery", warm=WARM_BATCHES),
        }
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
        return (
            f"loading app.py takes {median(variant, 'init_ms'):.0f} ms and the first invocation "
            f"{median(variant, 'first_ms'):.0f} ms (it builds "
            f"{len(memory[variant]['cold']['clients'])} boto3 clients from "
            f"{plural(memory[variant]['cold']['botocore_sessions'], 'botocore session')}), against "
            f"{floor:.0f} ms for "
            f"the baseline's whole run; imports beyond the baseline's (self time): {top_offenders}"
        )

    figures = []
    # The handlers, then two floors: what the receiver's AWS work costs alone, and what its libraries cost alone.
    for variant, label, check, note in (
        ("stripe", "Receiver cold, Stripe (fresh process → first answer)", "ratio_max", receiver_note("stripe")),
        ("typeform", "Receiver cold, Typeform (fresh process → first answer)", "ratio_max", receiver_note("typeform")),
        ("delivery", "Delivery cold, batch of 10 (fresh process → first answer)", "", ""),
        (
            "floor",
            "Receiver's AWS calls alone, bare boto3 (fresh process → first answer)",
            "",
            "the Stripe receiver's secret read, 3 DynamoDB writes and 4 sends, without powertools or pydantic",
        ),
        (
            "libraries",
            "The baseline's work behind powertools and pydantic, none of ours (fresh process → first answer)",
            "",
            "Logger, Metrics and the HTTP resolver route the request and a pydantic model reads it: the "
            "toolkit every handler here is built on, so no receiver that keeps it starts faster",
        ),
    ):
        figures.append(
            Figure(
                key=f"cold_start.{variant}",
                label=label,
                value=median(variant, "wall_ms"),
                unit="ms",
                baseline=floor,
                target=f"≤ {COLD_TARGET}x" if check else "",
                check=check,
                limit=COLD_TARGET if check else None,
                note=note,
            )
        )
    for variant, label in (
        ("stripe", "Receiver cold with SnapStart, Stripe (emulated: restore → first answer)"),
        ("typeform", "Receiver cold with SnapStart, Typeform (emulated: restore → first answer)"),
        ("delivery", "Delivery cold with SnapStart, batch of 10 (emulated: restore → first answer)"),
    ):
        figures.append(
            Figure(
                key=f"cold_start.snapstart.{variant}",
                label=label,
                value=statistics.median(restored[variant]),
                unit="ms",
                baseline=floor,
                note="before-snapshot hooks run, then timed from the go; Lambda's memory restore not included",
            )
        )
    for variant, label in (("stripe", "Stripe receiver"), ("typeform", "Typeform receiver"), ("delivery", "Delivery")):
        run_ = memory[variant]
        warm_label = f"{WARM_INVOCATIONS} warm" if variant != "delivery" else f"{WARM_BATCHES} warm batches of 10"
        for phase, value, when in (
            ("cold", run_["cold"]["peak_rss_mb"], "after the cold invocation"),
            ("warm", run_["memory"]["peak_rss_mb"], f"after {warm_label}"),
        ):
            figures.append(
                Figure(
                    key=f"memory.{variant}.{phase}",
                    label=f"Peak memory (peak RSS), {label}, {when}",
                    value=value,
                    unit="MB",
                    baseline=baseline_rss,
                    target=f"≤ {MEMORY_LIMIT_MB} MB",
                    check="value_max",
                    limit=MEMORY_LIMIT_MB,
                )
            )

    details = {
        "repeats": REPEATS,
        "samples_wall_ms": {v: [round(s["wall_ms"], 1) for s in samples[v]] for v in VARIANTS},
        "snapstart_samples_wall_ms": {v: [round(ms, 1) for ms in restored[v]] for v in RESTORED},
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
            for variant in ("stripe", "typeform", "delivery")
        },
        "import_first_party_stripe": heaviest_first_party(imports["stripe"]),
        "import_third_party_delivery": third_party_pulled_in(imports["delivery"]),
        "warm_over_http_ms": {
            v: statistics.median(memory[v]["warm"]["durations_ms"]) for v in ("stripe", "typeform", "delivery")
        },
        "baseline_peak_rss_mb": baseline_rss,
        "first_invocation_clients": {
            v: {"botocore_sessions": memory[v]["cold"]["botocore_sessions"], "clients": memory[v]["cold"]["clients"]}
            for v in ("stripe", "typeform", "delivery")
        },
        "ru_maxrss_mb": {
            "baseline": statistics.median(s["cold"]["ru_maxrss_mb"] for s in samples["baseline"]),
            **{v: memory[v]["memory"]["ru_maxrss_mb"] for v in ("stripe", "typeform", "delivery")},
        },
    }
    return BenchResult(figures, details)
