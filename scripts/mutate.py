#!/usr/bin/env python3
"""Mutation testing of the correctness core with mutmut, and a score per module.

mutmut names a mutant after its file's path from the working directory, and the code only
imports as ``webhook_bridge.…``, so mutmut runs in ``build/mutation/``, where the package
sits at the top (links to the repository's files) beside the tests. Which files are mutated
and which tests run is ``[tool.mutmut]`` in pyproject.toml; the pytest settings are the
repository's, with the package's directory as the import root.

Slow (minutes per module on two cores), so not part of ``make test``.

Usage: python scripts/mutate.py [--fresh] [--restat] [--jobs N] [--recheck] [MUTANT_GLOB ...]
                                 (a glob: e.g. "webhook_bridge.privacy*")
       python scripts/mutate.py --score                       (scores of the last run only)
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutation"
PACKAGE = ROOT / "layers" / "shared" / "python" / "webhook_bridge"
# What the tests need beside the package, linked from the repository.
LINKED = ("tests", "functions", "events", "devstack", "template.yaml")
REPO_PYTHONPATH = 'pythonpath = ["layers/shared/python", "."]'

# mutmut's exit-code verdicts, grouped. A mutant no selected test reaches counts as survived.
VERDICTS: dict[int | None, str] = {
    **dict.fromkeys((1, 3), "killed"),
    **dict.fromkeys((36, 24, -24, 152, 255), "timeout"),
    **dict.fromkeys((0, 5, 33), "survived"),
    None: "not checked",
}


def stage(fresh: bool, restat: bool) -> None:
    if fresh and WORK.exists():
        shutil.rmtree(WORK)
    if restat:
        # mutmut runs, for each mutant, the tests its last stats saw reach the function; after
        # tests or code moved, those can be missing, and the mutant wrongly survives.
        (WORK / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)
    for name, target in [("webhook_bridge", PACKAGE), *((name, ROOT / name) for name in LINKED)]:
        link = WORK / name
        if not link.is_symlink():
            link.symlink_to(target)
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if REPO_PYTHONPATH not in config:
        sys.exit(f"pyproject.toml no longer has {REPO_PYTHONPATH!r}: update scripts/mutate.py")
    (WORK / "pyproject.toml").write_text(config.replace(REPO_PYTHONPATH, 'pythonpath = ["."]'), encoding="utf-8")


def verdicts() -> dict[str, dict[str, str]]:
    """Each mutant's verdict per source module, from mutmut's ``.meta`` files."""
    by_module: dict[str, dict[str, str]] = {}
    for meta in sorted((WORK / "mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        if codes:
            module = meta.relative_to(WORK / "mutants").with_suffix("").with_suffix("").as_posix().replace("/", ".")
            by_module[module] = {name: VERDICTS.get(code, "other") for name, code in codes.items()}
    return by_module


def scores() -> dict[str, Counter[str]]:
    return {module: Counter(by_name.values()) for module, by_name in verdicts().items()}


def to_recheck(globs: list[str]) -> list[str]:
    """The mutants matching ``globs`` (all without) that survived or were never checked:
    what new tests may now kill. mutmut reruns a mutant only when it is named."""
    return [
        name
        for by_name in verdicts().values()
        for name, verdict in by_name.items()
        if verdict in ("survived", "not checked") and (not globs or any(fnmatch.fnmatch(name, g) for g in globs))
    ]


def report(by_module: dict[str, Counter[str]]) -> None:
    print(f"\n{'module':40} {'mutants':>7} {'killed':>6} {'timeout':>7} {'survived':>8} {'unrun':>5} {'score':>6}")
    for module, verdicts in by_module.items():
        total = sum(verdicts.values())
        # A mutant that makes the tests hang is caught too, but a busy machine can time out a
        # slow test run: timeouts are shown apart, and rerunning them (mutmut run NAME) tells.
        killed, timeout, survived = verdicts["killed"], verdicts["timeout"], verdicts["survived"]
        checked = killed + timeout + survived
        score = f"{100 * (killed + timeout) / checked:.0f} %" if checked else "-"
        print(f"{module:40} {total:7} {killed:6} {timeout:7} {survived:8} {total - checked:5} {score:>6}")
    print("\nSurvivors: `cd build/mutation && ../../.venv/bin/mutmut results`, then `mutmut show NAME`.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", action="store_true", help="forget earlier results and mutants")
    parser.add_argument("--score", action="store_true", help="print the last run's scores only")
    parser.add_argument("--restat", action="store_true", help="map tests to functions again (after changes)")
    parser.add_argument("--recheck", action="store_true", help="run only the survivors and unchecked mutants")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1: a shared machine)")
    parser.add_argument("mutants", nargs="*", help="mutant name globs to run (default: all)")
    args = parser.parse_args()
    if not args.score:
        stage(args.fresh, args.restat)
        names = to_recheck(args.mutants) if args.recheck else args.mutants
        if args.recheck and not names:
            print("Nothing to recheck.")
        else:
            mutmut = Path(sys.executable).with_name("mutmut")
            command = [str(mutmut), "run", "--max-children", str(args.jobs), *names]
            subprocess.run(command, cwd=WORK, check=False)  # noqa: S603 - our venv's tool
    report(scores())


if __name__ == "__main__":
    main()
