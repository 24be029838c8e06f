"""The table on stdout and docs/benchmarks.md."""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import WEBHOOK_NAMES, Figure

RESULTS_MARKER = "bench-results"
HEADER = ["figure", "value", "baseline (same run)", "ratio", "target", "result"]
UNIT_FORMATS = {"$": "${:,.2f}", "calls": "{:g}", "%": "{:.1f} %", "req/s": "{:.2f} req/s", "MB": "{:.1f} MB"}


def fmt(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "ms":
        return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"
    return UNIT_FORMATS.get(unit, "{:g} " + unit).format(value)


def ms(value: float | None) -> str:
    return fmt(value, "ms")


def ratio_text(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}x"


def rows(figures: list[Figure]) -> list[list[str]]:
    return [
        [f.label, fmt(f.value, f.unit), fmt(f.baseline, f.unit), ratio_text(f.ratio), f.target or "—", f.status]
        for f in figures
    ]


def text_table(figures: list[Figure]) -> str:
    table = [HEADER, *rows(figures)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    lines = []
    for n, row in enumerate(table):
        cells = [cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def table(header: Sequence[str], body: Iterable[Sequence[Any]], *, last: str = "---:", indent: str = "") -> list[str]:
    """A Markdown table: the first column left-aligned, the others right-aligned (the last one as ``last``)."""

    def line(cells: Sequence[Any]) -> str:
        return f"{indent}| {' | '.join(str(cell) for cell in cells)} |"

    marks = ["---", *["---:"] * (len(header) - 2), last]
    return [line(header), f"{indent}|{'|'.join(marks)}|", *(line(row) for row in body)]


def markdown_table(figures: list[Figure]) -> list[str]:
    body = [[*row[:-1], {"PASS": "**PASS**", "GAP": "**GAP**"}.get(row[-1], row[-1])] for row in rows(figures)]
    return table(HEADER, body, last=":---:")


# -- run-to-run comparison ---------------------------------------------------------------


def previous_results(doc: Path) -> dict[str, Any] | None:
    """The figures of the run that wrote ``doc`` last (kept in an HTML comment at its end)."""
    try:
        match = re.search(rf"<!-- {RESULTS_MARKER}\n(.*?)\n-->", doc.read_text(encoding="utf-8"), re.S)
        data: dict[str, Any] | None = json.loads(match[1]) if match else None
    except (OSError, ValueError):
        return None
    return data


def comparison(figures: list[Figure], previous: dict[str, Any] | None) -> tuple[list[str], list[float]]:
    """Lines comparing this run with the previous one, and every relative difference (of value and ratio)."""
    if not previous:
        return ["No previous run recorded in this file: run `make bench` again to compare."], []
    old = previous.get("figures", {})
    body, deltas = [], []
    for f in figures:
        before = old.get(f.key)
        if not before or before.get("value") in (None, 0) or f.value is None:
            continue
        delta = (f.value - before["value"]) / abs(before["value"]) * 100
        deltas.append(abs(delta))
        body.append(
            [
                f.label,
                fmt(before["value"], f.unit),
                fmt(f.value, f.unit),
                f"{delta:+.0f} %",
                ratio_text(before.get("ratio")),
                ratio_text(f.ratio),
                f"{before.get('status', '?')} → {f.status}",
            ]
        )
    header = ["figure", "previous", "this run", "Δ value", "previous ratio", "this ratio", "result (prev → now)"]
    intro = f"Compared with the previous run ({previous.get('date', '?')}, load {previous.get('load', '?')}):"
    return [intro, "", *table(header, body, last=":---:")], deltas


def results_comment(figures: list[Figure], date: str, load: str, imports: dict[str, Any] | None = None) -> str:
    data = {
        "date": date,
        "load": load,
        "figures": {f.key: {"value": f.value, "ratio": f.ratio, "status": f.status} for f in figures},
        "imports": imports or {},
    }
    return f"<!-- {RESULTS_MARKER}\n{json.dumps(data, indent=None, sort_keys=True)}\n-->\n"


# -- docs/benchmarks.md ------------------------------------------------------------------


def write_doc(
    path: Path,
    figures: list[Figure],
    results: dict[str, dict[str, Any]],
    machine: dict[str, Any],
    run_info: dict[str, Any],
) -> None:
    previous = previous_results(path)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    checked = [f for f in figures if f.status in ("PASS", "GAP")]
    passed = [f for f in checked if f.status == "PASS"]
    compare_lines, deltas = comparison(figures, previous)
    details = {name: result.get("details", {}) for name, result in results.items()}
    out = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` on {now} in {run_info['seconds']:.0f} s: **{len(passed)} of {len(checked)} "
        f"targets met**. Every baseline was measured in the same run as its figure; ratios are value ÷ baseline.",
        "",
        *markdown_table(figures),
        "",
        "## Machine",
        "",
        f"- `nproc`: {machine['nproc']}; CPU: {machine['cpu_model']}; memory: {machine['memory']}",
        f"- Python {machine['python']} ({machine['implementation']}), {machine['platform']}",
        "- " + ", ".join(f"{k} {v}" for k, v in machine["packages"].items()),
        f"- load average (1/5/15 min) at the start {run_info['load_start']}, at the end {run_info['load_end']}; "
        "the machine is shared (other sessions run test suites on it), which is why every figure is compared "
        "with a baseline taken at the same time, interleaved where possible",
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench                                  # = .venv/bin/python -m benchmarks (under 5 minutes)",
        ".venv/bin/python -m benchmarks --only receiver_warm,cold_start   # a subset; the doc is left alone",
        "```",
        "",
        "Each benchmark runs in a fresh interpreter (`python -m benchmarks --job NAME`), everything binds "
        "127.0.0.1, nothing goes to the network, and durations are `time.perf_counter()` differences (waits only "
        "schedule load, they never measure). Sources: `benchmarks/`.",
        "",
        "## Run to run",
        "",
        *compare_lines,
    ]
    if deltas:
        within = sum(1 for d in deltas if d <= 15)
        out += [
            "",
            f"{within} of {len(deltas)} figures moved by 15 % or less (median |Δ| {statistics.median(deltas):.0f} %). "
            "Targets are judged on ratios to a baseline measured alongside, which move much less than raw "
            "durations on this shared machine; the verdicts above are the same in both runs unless the last "
            "column says otherwise.",
        ]
    out += ["", "## Missed targets: the gap and its cause", ""]
    gaps = [
        f"- **{f.label}**: {f'ratio {ratio_text(f.ratio)}' if f.check.startswith('ratio') else fmt(f.value, f.unit)} "
        f"against {f.target}. {f.note[:1].upper() + f.note[1:]}"
        for f in figures
        if f.status == "GAP"
    ]
    out += [*(gaps or ["None: every target is met."]), ""]
    out += ["## What each figure measures, and what else the run found", ""]
    for provider in WEBHOOK_NAMES:
        out += _receiver_warm(provider, details.get(f"receiver_warm:{provider}"))
    out += _cold_start(details.get("cold_start"), (previous or {}).get("imports"))
    out += _delivery(details.get("delivery"))
    out += _end_to_end(details.get("end_to_end"))
    out += _cost(details.get("cost"))
    imports = details.get("cold_start", {}).get("import_beyond_baseline_ms")
    out.append(results_comment(figures, now, run_info["load_end"], imports))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")


def _receiver_warm(provider: str, warm: dict[str, Any] | None) -> list[str]:
    if not warm:
        return []
    ops = ", ".join(f"{op} x {n:g}" for op, n in warm["calls_by_operation"].items())
    per_call = ", ".join(f"{op} {v:.1f} ms" for op, v in warm["ms_per_call"].items())
    real, base = warm["real_ms"], warm["baseline_ms"]
    profile = [[f"`{r['function']}`", f"{r['self_ms']:.3f}", f"{r['cum_ms']:.3f}"] for r in warm["profile_top"][:8]]
    return [
        f"### Receiver, warm: {WEBHOOK_NAMES[provider]}",
        "",
        f"{warm['iterations']} webhooks (after {warm['warmup']} warm-up) through "
        f"`{warm['handler_file']}` against moto in-process, interleaved with the bare baseline. "
        f"AWS calls per webhook: {ops}. Mean time per call in moto: {per_call}.",
        "",
        f"- real handler: p50 {ms(real['p50'])}, p99 {ms(real['p99'])}, mean {ms(real['mean'])}; "
        f"baseline p50 {ms(base['p50'])}, p99 {ms(base['p99'])}",
        f"- time outside AWS calls: handler p50 {ms(warm['real_own_ms']['p50'])} vs baseline "
        f"{ms(warm['baseline_own_ms']['p50'])}; with every AWS call stubbed the handler takes "
        f"p50 {ms(warm['stubbed_aws_ms']['p50'])}",
        f"- `SendMessageBatch` calls in flight at once: {warm.get('sqs_sends_in_flight_at_once', '?')} (the "
        "baseline replays the calls one after the other)",
        f"- per webhook: {warm['messages_per_webhook']} SQS messages, "
        f"{warm['log_bytes_per_webhook']:.0f} bytes of logs (powertools logger + EMF metrics), "
        f"body {warm['webhook_bytes']} bytes",
        "- the handler's own hottest functions (AWS stubbed, cProfile, ms per webhook):",
        "",
        *table(["function", "self ms", "cumulative ms"], profile, indent="  "),
        "",
    ]


def listing(values: dict[str, Any], form: str = "{} {}") -> str:
    """``a 1, b 2``: each key with its value formatted by ``form``."""
    return ", ".join(form.format(key, value) for key, value in values.items())


def _cold_start(cold: dict[str, Any] | None, previous_imports: dict[str, Any] | None) -> list[str]:
    if not cold:
        return []
    samples = "; ".join(f"{v} {', '.join(f'{x:.0f}' for x in s)}" for v, s in cold["samples_wall_ms"].items())
    built = cold.get("first_invocation_clients", {})
    out = [
        "### Cold start and memory",
        "",
        f"Median of {cold['repeats']} interleaved rounds (plus one discarded warm-up round) against a moto server "
        f"on 127.0.0.1; samples (ms): {samples}.",
        "",
        "- inside the child: loading `app.py` (imports, module-level setup) "
        + listing({v: ms(x) for v, x in cold["init_ms_median"].items()})
        + "; first invocation "
        + listing({v: ms(x) for v, x in cold["first_invocation_ms_median"].items()}),
    ]
    if built:
        out.append(
            "- botocore sessions / clients built up to the first answer: "
            + "; ".join(f"{v} {b['botocore_sessions']} / {', '.join(b['clients']) or 'none'}" for v, b in built.items())
        )
    offenders = [
        [f"`{r['package']}`", f"{r['self_ms']:.1f}", f"{r['beyond_baseline_ms']:.1f}"]
        for r in cold["import_offenders_stripe"]
    ]
    first_party = [
        [f"`{r['module']}`", f"{r['cumulative_ms']:.1f}", f"{r['self_ms']:.1f}"]
        for r in cold["import_first_party_stripe"]
    ]
    return [
        *out,
        "- `python -X importtime`, total self time: " + listing(cold["import_total_ms"], "{} {:.0f} ms"),
        "",
        "Top import offenders of the Stripe receiver, beyond what the baseline imports (self time):",
        "",
        *table(["package", "self ms", "beyond baseline ms"], offenders),
        "",
        *_imports_against_previous(cold.get("import_beyond_baseline_ms"), previous_imports),
        "Imports made by the receiver's own code, cumulative (what each pulls in):",
        "",
        *table(["module", "cumulative ms", "self ms"], first_party),
        "",
        "Delivery function, third-party imports by cumulative ms: "
        + ", ".join(f"`{r['module']}` {r['cumulative_ms']:.0f}" for r in cold["import_third_party_delivery"][:8]),
        "",
        "Warm invocations in the same child processes, over HTTP to the moto server: median "
        + listing({v: ms(x) for v, x in cold["warm_over_http_ms"].items()})
        + f". The baseline process peaks at {cold['baseline_peak_rss_mb']:.1f} MB. Peak memory is VmHWM "
        "(/proc/self/status): `ru_maxrss` of a child on Linux also carries the resident size of the "
        "process that forked it, here "
        + listing(cold["ru_maxrss_mb"], "{} {:.0f} MB")
        + " (the memory runs' parent holds moto and the sandbox).",
        "",
    ]


def _imports_against_previous(now: dict[str, Any] | None, before: dict[str, Any] | None) -> list[str]:
    """Self ms beyond the baseline's imports, per function and package: the previous run, then this one."""
    if not now:
        return []
    before = before or {}
    functions = list(now)
    packages = sorted(
        {p for f in functions for p in now[f]} | {p for f in before for p in before[f]},
        key=lambda p: -max(now[f].get(p, 0.0) for f in functions),
    )

    def cell(value: float | None) -> str:
        return "—" if value is None else f"{value:.0f}"

    body = [
        [f"`{p}`", *(f"{cell(before.get(f, {}).get(p))} → {cell(now[f].get(p))}" for f in functions)] for p in packages
    ]
    return [
        f"Imports beyond the baseline's, self ms under `-X importtime`, previous run "
        f"({'recorded' if before else 'not recorded'}) → this run (a single profile each: ±30 % is noise here):",
        "",
        *table(["package", *functions], body),
        "",
    ]


def _delivery(delivery: dict[str, Any] | None) -> list[str]:
    if not delivery:
        return []
    batch, burst = delivery["batch"], delivery["loops_burst"]
    unpaced, stubbed = batch["unpaced"], batch["aws_stubbed"]
    out = [
        "### Delivery",
        "",
        f"Real delivery handler in the benchmark process, moto's server, sandbox latency "
        f"{batch['vendor_latency_ms']} ms. Unpaced: one "
        f"call p50 {ms(unpaced['one_call_ms']['p50'])}, batch of 10 p50 {ms(unpaced['batch_ms']['p50'])}; at most "
        f"{unpaced['peak_vendor_concurrency']} vendor calls in flight at once; DynamoDB calls took "
        f"{unpaced['aws_ms_per_call']['one']:.1f} ms each for one record and "
        f"{unpaced['aws_ms_per_call']['ten']:.1f} ms each within a batch (moto's server serialises them); "
        f"{unpaced['aws_calls_per_record']:g} DynamoDB calls and {unpaced.get('log_bytes_per_record', 0):.0f} "
        f"bytes of logs per record. With AWS answered at once: one call "
        f"{ms(stubbed['one_call_ms']['p50'])}, batch {ms(stubbed['batch_ms']['p50'])}.",
        "",
    ]
    for vendor, d in batch["deployed"].items():
        stubbed_note = (
            f"; with AWS answered at once {ms(d['aws_stubbed_one_ms'])} and {ms(d['aws_stubbed_batch_ms'])}"
            if "aws_stubbed_batch_ms" in d
            else ""
        )
        out.append(
            f"- {vendor} as deployed (VENDOR_RATE_LIMIT {d['pacing'][0]}, VENDOR_MAX_CONCURRENCY "
            f"{d['pacing'][1]}): one call {ms(d['one_ms'])}, batch of 10 {ms(d['batch_ms'])}, "
            f"at most {d['peak_concurrency']} in flight{stubbed_note}"
        )
    rss = ", ".join(f"{instance['peak_rss_mb']:.0f}" for instance in burst["instances"])
    rate, instances = burst["pacing"]
    return [
        *out,
        "",
        f"Loops burst: {burst['requests']} requests for {burst['distinct_delivered']} actions "
        f"({burst['throttled_429']} answered 429, {burst['other_errors']} other errors, {burst['dlq_messages']} in "
        f"the DLQ); first to last success {burst['first_to_last_success_s']:.1f} s; at most "
        f"{burst['max_requests_in_any_1s_window']} requests reached the sandbox in any 1 s window "
        f"(limit {burst['limit_per_second']:g}); at most {burst.get('max_sends_per_instance_in_1s', '?')} left "
        f"one instance in any 1 s (its pacing budget: {rate / instances:g}); "
        f"{burst['handler_seconds_per_message']:.3f} s of handler time per message; "
        f"instances peaked at {rss} MB.",
        "",
    ]


def _end_to_end(e2e: dict[str, Any] | None) -> list[str]:
    if not e2e:
        return []
    per_vendor = [*e2e["per_vendor_ms"].items(), ("all four called", e2e["all_vendors_done_ms"])]
    body = [[vendor, s["n"], *(ms(s[q]) for q in ("p50", "p90", "p99", "max"))] for vendor, s in per_vendor]
    accept = e2e["accept_round_trip_ms"]
    return [
        "### End to end (`make dev`)",
        "",
        f"`devstack.stack.Stack` with template.yaml (started in {e2e['stack_startup_s']:.1f} s), {e2e['webhooks']} "
        f"webhooks (half Stripe customer.created, half Typeform form_response) at {e2e['rate_per_second']:g}/s "
        f"after {e2e['warmup_webhooks']} warm-up webhooks; latency = sandbox timestamp of the first successful "
        "request for the (webhook, vendor) pair minus the time the HTTP API's 200 reached the sender.",
        "",
        *table(["vendor", "n", "p50", "p90", "p99", "max"], body),
        "",
        f"Webhook POST → 200 through the local HTTP API: p50 {ms(accept['p50'])}, p99 {ms(accept['p99'])}. SQS "
        "batches per vendor queue (batches / messages): "
        + ", ".join(f"{q} {b['batches']}/{b['messages']}" for q, b in e2e["poller_batches"].items())
        + f"; sandbox answers {e2e['sandbox_statuses']}; DLQs {e2e['dlq_messages']}.",
        "",
    ]


def _cost(cost: dict[str, Any] | None) -> list[str]:
    if not cost or not cost.get("scenarios"):
        return []
    prices, scenarios = cost["prices"], cost["scenarios"]
    body = [  # the steady-traffic lines, logs apart
        [f"{side}: {line.replace('_', ' ')}", *(f"{s['steady'][side][line]:.2f}" for s in scenarios.values())]
        for side, lines in next(iter(scenarios.values()))["steady"].items()
        for line in lines
        if line != "logs"
    ]
    for label, total in (
        ("**total, steady traffic**", "steady"),
        ("total with CloudWatch Logs", "steady_with_logs"),
        ("total, bursts (paced as deployed)", "burst"),
    ):
        body.append([label, *(f"{s['totals'][total]:.2f}" for s in scenarios.values())])
    burst_seconds = next(iter(scenarios.values()))["burst_seconds_per_message"]
    return [
        "### Cost per million webhooks",
        "",
        f"List prices {cost['price_date']}: API Gateway HTTP API ${prices['api_gateway_http_per_million']:.2f} per "
        f"million requests; Lambda arm64 ${prices['lambda_gb_second_arm64']} per GB-s and "
        f"${prices['lambda_per_million_requests']:.2f} per million requests; SQS standard "
        f"${prices['sqs_standard_per_million_requests']:.2f} per million requests (64 KB chunks); DynamoDB "
        f"on-demand ${prices['dynamodb_per_million_wru']} per million WRU, "
        f"${prices['dynamodb_per_million_rru']} per million RRU; CloudWatch Logs "
        f"${prices['cloudwatch_logs_per_gb_ingested']:.2f} per GB ingested (not in the issue's list, shown "
        f"apart). Lambda is billed at the configured {cost['memory_mb']} MB.",
        "",
        *table(["$ per million", *scenarios], body),
        "",
        "Steady traffic: 1M webhooks a month (≈0.4 messages/s on each vendor queue), delivered as deployed: "
        f"the vendor queues' batching window ({cost.get('batching_window_s', '?')} s, "
        "`DeliveryBatchingWindowSeconds`) gathers what arrives while it is open into one invocation, priced "
        "between the measured one-call and batch-of-10 durations. "
        "Bursts: full batches of 10, each vendor paced as template.yaml deploys it, billed for "
        "the measured handler seconds per message ("
        + listing(burst_seconds, "{} {:.2f} s")
        + "). Not included: Lambda init billing of cold starts, X-Ray (Tracing: Active), idle SQS long polls of "
        "the event source mappings (≈$1 a month for four queues, whatever the volume), Secrets Manager calls "
        "(cached 5 min), DynamoDB storage and PITR. Durations come from moto on this machine; real AWS calls "
        "take longer (several ms for DynamoDB, ~10-20 ms for SQS), which raises the Lambda duration lines.",
        "",
        *_cost_candidates(scenarios),
    ]


def _cost_candidates(scenarios: dict[str, dict[str, Any]]) -> list[str]:
    """Issue 14's cost options, modelled from this run's measurements (``cost.candidates``)."""
    if not all("candidates" in s for s in scenarios.values()):
        return []
    first_name = next(iter(scenarios))
    options = [
        [name, f"{row['records_per_invocation']:.1f}"]
        + [f"{s['candidates'][name]['total']:.2f}" for s in scenarios.values()]
        + [f"{row['dynamodb']:.2f}"]
        for name, row in scenarios[first_name]["candidates"].items()
    ]
    out = [
        "Options, modelled from this run's measurements (none deployed; the rest of the bill as above):",
        "",
        *table(
            ["$ per million, steady traffic", "records per invocation", *scenarios, f"of it DynamoDB ({first_name})"],
            options,
        ),
        "",
    ]
    floors = {name: s["guarantee_floor"] for name, s in scenarios.items() if "guarantee_floor" in s}
    if floors:
        body = [
            [line.replace("_", " "), *(f"{f[line]:.2f}" for f in floors.values())]
            for line in next(iter(floors.values()))
        ]
        body.append(["**total**", *(f"{sum(f.values()):.2f}" for f in floors.values())])
        out += [
            "The floor under the guarantees (`cost.guarantee_floor`): what no design that keeps exactly once "
            "per vendor, ordering and retries can go below in this model. It keeps only the DynamoDB operations "
            "they need: one write of the newest state per webhook, and per vendor message a claim before the call, "
            "its completion after it and one read of the state (not even the receiver's claim on the event id: the "
            "deliveries' claims would catch a provider's retry too). No vendor document promises to drop a repeated "
            "request, so exactly once cannot rest on the vendor. Every other line is at its cheapest: the bare "
            "receiver's duration, one SNS publish, full batches of 10, no logs.",
            "",
            *table(["$ per million", *floors], body),
            "",
        ]
    operations = scenarios[first_name].get("delivery_calls_by_operation_per_record")
    if operations:
        out += [
            "What the delivery DynamoDB line prices, per delivered record (writes at 1 WRU, reads at 1 RRU): "
            + listing(operations, "{} x {:g}")
            + ". No batching window or fan-out changes these; only fewer writes per delivered action would.",
            "",
        ]
    return out
