"""Flaky triage against the policy users pick today, on real pytest runs.

``python -m bench.flaky_triage [--repeat 3] [--fixed-n 3] [--only NAME]``

For each scenario of ``bench.flaky_corpus`` and each repetition:
1. the failing build: the whole suite, run until the target test fails (not counted);
2. Greenline's planner (``workflows.flaky_triage``), each rerun a fresh pytest process in a
   fresh temp dir with only the selected tests, as the sandboxes do;
3. the fixed-N policy: the whole suite with ``pytest --reruns N`` (pytest-rerunfailures), in
   a run where the target failed at least once: flaky if a rerun passed, else a real failure.
Scored on verdict accuracy (flaky / order-dependent / deterministic; for order-dependent
tests, also whether the polluter was named) and reruns spent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from activities.repair import read_junit, write_selection
from activities.sandbox.base import BuildSpec, pytest_environment
from bench.flaky_corpus import SCENARIOS, Scenario
from models import ArtifactRef, BuildResult, Flakiness, FlakinessVerdict, RerunOutcome, SandboxKind, TestReport
from workflows import flaky_triage

RESULTS = Path(__file__).parent / "results"
MAX_TRIES = 40
_RERUNS = re.compile(r"(\d+) rerun")


def pytest_run(project: Path, selection: list[str] | None = None, args: tuple[str, ...] = ()) -> tuple[TestReport | None, str, float]:
    """One pytest process on ``project``: fresh temp dir, random hash seed, JUnit XML, and the
    rerun selection plugin when ``selection`` is given (the sandboxes' recipe, minus the venv)."""
    with tempfile.TemporaryDirectory(prefix="greenline-bench-") as scratch:
        meta = Path(scratch) / "meta"
        meta.mkdir()
        spec = BuildSpec(
            build_id="bench", workflow_id="bench", cmd="pytest", checkout=Path(scratch), subdir="",
            log_path=meta / "log", junit_path=meta / "junit.xml", timeout_s=120,
            select_path=write_selection(meta, selection) if selection is not None else None,
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONHASHSEED", "GREENLINE_"))}
        env.update(pytest_environment(spec, str))
        env.update({"TMPDIR": str(Path(scratch)), "PYTHONDONTWRITEBYTECODE": "1"})
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", *args],
            cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        return read_junit(spec.junit_path), proc.stdout, time.monotonic() - started


def failing_build(project: Path, target: str) -> tuple[TestReport, int]:
    for tries in range(1, MAX_TRIES + 1):
        report, output, _ = pytest_run(project)
        if report is None:
            raise RuntimeError(f"pytest wrote no results for {project}:\n{output[-2000:]}")
        if target in report.failed_ids:
            return report, tries
    raise RuntimeError(f"{target} never failed in {MAX_TRIES} runs")


def greenline(project: Path, target: str, report: TestReport, max_reruns: int) -> tuple[FlakinessVerdict, float]:
    before = flaky_triage.tests_before(target, report.executed_ids)
    outcomes: list[RerunOutcome] = []
    spent = 0.0
    while not isinstance(step := flaky_triage.next_step(target, before, outcomes, max_reruns=max_reruns), FlakinessVerdict):
        rerun, _, seconds = pytest_run(project, step.selection)
        spent += seconds
        result = flaky_triage.result_of(target, _as_build(rerun))
        outcomes.append(RerunOutcome(step=step, result=result, duration_s=seconds))
    return step, spent


def fixed_n(project: Path, target: str, n: int) -> tuple[Flakiness, int, float]:
    """``pytest --reruns n`` on the whole suite, in a run where the target failed at least once."""
    for _ in range(MAX_TRIES):
        report, output, seconds = pytest_run(project, None, ("-p", "rerunfailures", "--reruns", str(n)))
        summary = output.strip().splitlines()[-1] if output.strip() else ""
        reruns = sum(int(m) for m in _RERUNS.findall(summary))
        if report is None:
            raise RuntimeError(f"pytest wrote no results:\n{output[-2000:]}")
        failed_first = target in report.failed_ids or reruns > 0
        if failed_first:
            verdict = Flakiness.DETERMINISTIC if target in report.failed_ids else Flakiness.FLAKY
            return verdict, reruns, seconds
    raise RuntimeError(f"{target} never failed in {MAX_TRIES} runs")


def _as_build(report: TestReport | None) -> BuildResult:
    """A rerun's results in the shape the planner reads (the bench keeps no log)."""
    return BuildResult(
        label="rerun", exit_code=0, duration_s=0.0, log=ArtifactRef(sha256="", size=0, uri=""), excerpt="",
        signature="", tests=report, sandbox=SandboxKind.LOCAL,
    )


def bench(scenarios: list[Scenario], repeat: int, n: int, max_reruns: int) -> dict[str, object]:
    rows = []
    for scenario in scenarios:
        with tempfile.TemporaryDirectory(prefix=f"greenline-{scenario.name}-") as tmp:
            project = Path(tmp)
            for name, text in scenario.files.items():
                (project / name).parent.mkdir(parents=True, exist_ok=True)
                (project / name).write_text(text)
            for rep in range(repeat):
                report, tries = failing_build(project, scenario.target)
                ours, ours_s = greenline(project, scenario.target, report, max_reruns)
                theirs, theirs_reruns, theirs_s = fixed_n(project, scenario.target, n)
                rows.append(
                    {
                        "scenario": scenario.name, "truth": scenario.truth.value, "repetition": rep,
                        "tests_before": len(flaky_triage.tests_before(scenario.target, report.executed_ids)),
                        "greenline": {
                            "verdict": ours.kind.value, "correct": ours.kind == scenario.truth, "reruns": len(ours.reruns),
                            "confidence": ours.confidence, "polluters": ours.polluters,
                            "polluter_named": scenario.polluter is None or ours.polluters == [scenario.polluter],
                            "seconds": round(ours_s, 2),
                        },
                        "fixed_n": {"verdict": theirs.value, "correct": theirs == scenario.truth, "reruns": theirs_reruns, "seconds": round(theirs_s, 2)},
                    }
                )
                print(f"{scenario.name:26} rep {rep}: greenline {ours.kind.value:15} in {len(ours.reruns)} reruns | --reruns {n}: {theirs.value:13} in {theirs_reruns}", file=sys.stderr)
    return {"repeat": repeat, "fixed_n": n, "max_reruns": max_reruns, "rows": rows, "summary": summarise(rows)}


def summarise(rows: list[dict]) -> dict[str, object]:
    def policy(key: str) -> dict[str, object]:
        by_truth = {}
        for truth in sorted({r["truth"] for r in rows}):
            subset = [r[key] for r in rows if r["truth"] == truth]
            by_truth[truth] = {
                "accuracy": round(sum(s["correct"] for s in subset) / len(subset), 3),
                "mean_reruns": round(statistics.mean(s["reruns"] for s in subset), 2),
            }
        return {
            "accuracy": round(sum(r[key]["correct"] for r in rows) / len(rows), 3),
            "mean_reruns": round(statistics.mean(r[key]["reruns"] for r in rows), 2),
            "by_truth": by_truth,
        }

    ours = policy("greenline")
    ours["polluter_named"] = round(sum(r["greenline"]["polluter_named"] for r in rows if r["truth"] == "order-dependent") / max(1, sum(r["truth"] == "order-dependent" for r in rows)), 3)
    return {"greenline": ours, "fixed_n": policy("fixed_n")}


def markdown(result: dict[str, object]) -> str:
    summary = result["summary"]
    n = result["fixed_n"]
    lines = [
        f"Flaky triage on {len({r['scenario'] for r in result['rows']})} scenarios x {result['repeat']} repetitions (real pytest runs)",
        "",
        f"| truth | Greenline accuracy | Greenline reruns | `--reruns {n}` accuracy | `--reruns {n}` reruns |",
        "|---|---|---|---|---|",
    ]
    for truth, ours in summary["greenline"]["by_truth"].items():
        theirs = summary["fixed_n"]["by_truth"][truth]
        lines.append(f"| {truth} | {ours['accuracy']:.0%} | {ours['mean_reruns']:.1f} | {theirs['accuracy']:.0%} | {theirs['mean_reruns']:.1f} |")
    g, f = summary["greenline"], summary["fixed_n"]
    lines.append(f"| **all** | **{g['accuracy']:.0%}** | **{g['mean_reruns']:.1f}** | **{f['accuracy']:.0%}** | **{f['mean_reruns']:.1f}** |")
    lines += ["", f"Order-dependent victims whose polluter Greenline named: {g['polluter_named']:.0%}. "
              f"`--reruns {n}` cannot tell order-dependent from a real failure: it reruns in the polluted session."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fixed-n", type=int, default=3)
    parser.add_argument("--max-reruns", type=int, default=10)
    parser.add_argument("--only", action="append", help="scenario name (repeatable)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/flaky_triage.*")
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or s.name in args.only]
    result = bench(scenarios, args.repeat, args.fixed_n, args.max_reruns)
    table = markdown(result)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "flaky_triage.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "flaky_triage.md").write_text(table)
    print(table)


if __name__ == "__main__":
    shutil.rmtree(Path(tempfile.gettempdir()) / "exports", ignore_errors=True)
    main()
