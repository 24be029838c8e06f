"""``python -m benchmarks`` (``make bench``): run every benchmark, print the table, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.common import PYTHON, ROOT, BenchResult, Figure, loadavg, machine_facts

DOC = ROOT / "docs" / "benchmarks.md"
# (job, module, argument); each job runs in a fresh interpreter.
JOBS: list[tuple[str, str, str | None]] = [
    ("receiver_warm:stripe", "receiver_warm", "stripe"),
    ("receiver_warm:typeform", "receiver_warm", "typeform"),
    ("cold_start", "cold_start", None),
    ("delivery", "delivery", None),
    ("end_to_end", "end_to_end", None),
]


def run_job(name: str) -> BenchResult:
    """Inside the job's own interpreter."""
    _, module_name, argument = next(job for job in JOBS if job[0] == name)
    module = importlib.import_module(f"benchmarks.{module_name}")
    result: BenchResult = module.run(argument) if argument else module.run()
    return result


def spawn_job(name: str, workdir: Path) -> dict[str, Any]:
    out = workdir / f"{name.replace(':', '_')}.json"
    started = time.perf_counter()
    sys.stderr.write(f"[bench] {name} …\n")
    sys.stderr.flush()
    done = subprocess.run(  # noqa: S603 - our interpreter, our module
        [PYTHON, "-m", "benchmarks", "--job", name, "--out", str(out)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # the handlers' logs; progress goes to stderr
        check=False,
    )
    if done.returncode != 0 or not out.exists():
        sys.stderr.write(f"[bench] {name} FAILED (exit {done.returncode}); see the traceback above\n")
        return {"figures": [], "details": {}, "error": f"exit status {done.returncode}"}
    sys.stderr.write(f"[bench] {name} done in {time.perf_counter() - started:.0f} s\n")
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", help="comma-separated jobs or modules, e.g. receiver_warm,cold_start")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--doc", type=Path, default=DOC, help="where to write the report (docs/benchmarks.md)")
    parser.add_argument(
        "--smoke", action="store_true", help="every job at its smallest sizes: checks that it runs, measures nothing"
    )
    args = parser.parse_args(argv)

    if args.job:
        Path(args.out).write_text(json.dumps(run_job(args.job).to_json(), default=str), encoding="utf-8")
        return 0
    if args.smoke:
        os.environ["BENCH_SMOKE"] = "1"  # the jobs' interpreters inherit it
    wanted = {w.strip() for w in (args.only or "").split(",") if w.strip()}
    selected = [name for name, module, _ in JOBS if not wanted or name in wanted or module in wanted]
    if not selected:
        raise SystemExit(f"--only matches no benchmark; choose from {', '.join(name for name, _, _ in JOBS)}")
    started, load_start = time.perf_counter(), loadavg()
    # One job at a time, so that none measures another's load; a smoke run measures nothing and runs them at once.
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as workdir,
        ThreadPoolExecutor(len(selected) if args.smoke else 1) as pool,
    ):
        results = dict(zip(selected, pool.map(lambda name: spawn_job(name, Path(workdir)), selected), strict=True))
    from benchmarks import cost

    results["cost"] = cost.run(results).to_json()
    figures = [Figure.from_json(f) for result in results.values() for f in result["figures"]]
    from benchmarks.report import text_table, write_doc

    print()
    print(text_table(figures))
    checked = [f for f in figures if f.status in ("PASS", "GAP")]
    print(f"\n{sum(f.status == 'PASS' for f in checked)} of {len(checked)} targets met")
    failed = [name for name, result in results.items() if result.get("error")]
    if failed:
        print(f"FAILED: {', '.join(failed)} (their figures are missing; {args.doc.name} not rewritten)")
        return 1
    run_info = {"seconds": time.perf_counter() - started, "load_start": load_start, "load_end": loadavg()}
    if args.only or args.no_doc:
        print(f"({args.doc.name} not rewritten: partial run)" if args.only else "")
    else:
        write_doc(args.doc, figures, results, machine_facts(), run_info)
        print(f"wrote {os.path.relpath(args.doc)}")
    print(f"total {run_info['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
