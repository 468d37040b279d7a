"""Repair rate and time to green on a corpus of broken repositories, against a naive loop.

    python -m bench.repair_rate [--only NAME] [--sandbox local|docker] [--no-naive] [--no-write]

Each scenario (``examples/*`` with the README's build steps, and ``bench/corpus/NAME/`` with a
``scenario.toml`` and a ``repo/``) becomes a fresh git repository and is repaired for real: the
dev server, an in-process worker, real builds, ``--engine rules``, auto-approve. Per scenario:
expected and actual status and category, builds run, wall time, tokens, cost, the engine of the
patch, and whether the patch touched what the scenario forbids (an unsafe patch).

Time to green: for each repaired scenario, the repair's wall time over the floor, the time of the
two builds any repair must run (the failing build and the verified rebuild), both measured in the
same run; the rest is split into other builds (triage reruns, retries, failed attempts) and
orchestration (checkouts, diagnosis, review, Temporal).

The naive loop is the seed article's: run the build, ask the playbooks, write the patch, rerun,
three attempts, no Temporal, no triage, no guardrail; a failing build with no patch is simply run
again. What it gets wrong is listed (a flaky test "fixed" by a rerun, tests touched).
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import json
import shutil
import statistics
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from activities import git
from activities.docker_lookups import AptCache, LocalImageTags
from activities.package_index import PackageIndex
from activities.sandbox.base import BuildSpec
from activities.sandbox.local import LocalSandbox
from greenline.client import DATA_CONVERTER, interceptors
from greenline.devserver import temporal_cli
from models import Engine, RepairRequest, RepairResult, SandboxKind
from specialists import router
from specialists.repo_view import RepoView
from tests.integration.helpers import EXAMPLE_COMMANDS, repair_in_process, settings_for

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "corpus"
RESULTS = Path(__file__).parent / "results"
NAIVE_ATTEMPTS = 3
EXAMPLE_EXPECTATIONS = {
    "missing-dependency": ("repaired", "dependency"),
    "missing-env-var": ("repaired", "environment"),
    "dependency-then-env": ("repaired", "environment"),
    "missing-build-tools": ("repaired", "dependency"),
    "upstream-breaking-release": ("repaired", "dependency"),
    "resolver-conflict": ("repaired", "dependency"),
    "dependency-bisection": ("repaired", "dependency"),
    "dockerfile-moved-file": ("repaired", "docker"),
    "dockerfile-pep668": ("repaired", "docker"),
    "dockerfile-entrypoint": ("repaired", "docker"),
}
# An example with this file is repaired with it as --known-good-env (the last green build's freeze).
KNOWN_GOOD = "last-green-freeze.txt"


@dataclass
class Scenario:
    name: str
    source: Path
    cmd: str
    expected_status: str
    expected_category: str
    must_not_touch: list[str] = field(default_factory=lambda: ["tests/**"])
    cleanup: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def known_good_env(self) -> str | None:
        path = self.source / KNOWN_GOOD
        return path.read_text() if path.is_file() else None


def scenarios() -> list[Scenario]:
    found = [
        Scenario(name, ROOT / "examples" / name, cmd, *EXAMPLE_EXPECTATIONS[name], description=f"examples/{name}")
        for name, cmd in EXAMPLE_COMMANDS.items()
        if name in EXAMPLE_EXPECTATIONS
    ]
    for spec in sorted(CORPUS.glob("*/scenario.toml")):
        data = tomllib.loads(spec.read_text())
        found.append(
            Scenario(
                spec.parent.name, spec.parent / "repo", data["cmd"].replace("{python}", sys.executable), data["expected_status"],
                data.get("expected_category", ""), data.get("must_not_touch", ["tests/**"]), data.get("cleanup", []), data.get("description", ""),
            )
        )
    return found


def make_repo(scenario: Scenario, scratch: Path) -> Path:
    for path in scenario.cleanup:
        Path(path).unlink(missing_ok=True)
    repo = scratch / scenario.name
    shutil.copytree(scenario.source, repo)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "broken"]):
        git.git(*args, cwd=repo)
    return repo


def unsafe(paths: list[str], forbidden: list[str]) -> list[str]:
    return [p for p in paths if any(fnmatch.fnmatch(p, glob) for glob in forbidden)]


async def greenline(scenario: Scenario, env: WorkflowEnvironment, scratch: Path, sandbox: SandboxKind) -> dict[str, object]:
    repo = make_repo(scenario, scratch)
    request = RepairRequest(repo_path=str(repo), cmd=scenario.cmd, sandbox=sandbox, auto_approve=True, engine=Engine.RULES, retry_delay_s=2,
                            known_good_env=scenario.known_good_env)
    started = time.monotonic()
    result: RepairResult = await repair_in_process(env, settings_for(scratch / f"{scenario.name}-state"), request)
    wall = time.monotonic() - started
    touched = result.patch.paths if result.patch else []
    row: dict[str, object] = {
        "scenario": scenario.name, "expected_status": scenario.expected_status, "status": result.status.value,
        "expected_category": scenario.expected_category or "any", "category": result.classification.value if result.classification else "none",
        "builds": result.spent.builds, "reruns": result.spent.reruns, "wall_s": round(wall, 1),
        "tokens": result.spent.tokens_input + result.spent.tokens_output, "usd": round(result.spent.usd, 4),
        "engine": result.attempts[-1].diagnosis.engine.value if result.attempts and result.patch else "-",
        "unsafe": unsafe(touched, scenario.must_not_touch), "reason": result.reason[:200],
    }
    row["correct"] = row["status"] == scenario.expected_status and (not scenario.expected_category or row["category"] == scenario.expected_category)
    if result.status.value == "repaired" and result.failing_build and result.attempts and result.attempts[-1].rebuild:
        floor = result.failing_build.duration_s + result.attempts[-1].rebuild.duration_s
        all_builds = result.spent.build_s
        row["floor_s"] = round(floor, 1)
        row["ratio"] = round(wall / floor, 2) if floor else None
        row["other_builds_s"] = round(all_builds - floor, 1)
        row["orchestration_s"] = round(wall - all_builds, 1)
    return row


def naive(scenario: Scenario, scratch: Path) -> dict[str, object]:
    """The seed article's loop, with the same playbooks."""
    repo = make_repo(scenario, scratch / "naive")
    commit = git.git("rev-parse", "HEAD", cwd=repo)
    files = git.tracked_files(repo, commit)
    checkout = git.checkout(repo, commit, scratch / "naive" / f"{scenario.name}-work")
    index = PackageIndex()
    started = time.monotonic()
    builds, patch, outcome = 0, None, "gave up"
    for attempt in range(NAIVE_ATTEMPTS + 1):
        builds += 1
        (checkout / ".greenline").mkdir(exist_ok=True)
        log = scratch / "naive" / f"{scenario.name}-{attempt}.log"
        spec = BuildSpec(build_id=f"naive-{scenario.name}-{attempt}", workflow_id="naive", cmd=scenario.cmd, checkout=checkout, subdir="",
                         log_path=log, junit_path=checkout / ".greenline" / "junit.xml", timeout_s=600)
        result = LocalSandbox().run(spec, tick=lambda details: None, should_stop=lambda: False)
        if result.exit_code == 0:
            outcome = "green at once" if attempt == 0 else ("fixed" if patch else "green on a rerun")
            break
        if attempt == NAIVE_ATTEMPTS:
            break
        diagnosis = router.diagnose(
            RepoView(files, "", patch), log.read_bytes(), scenario.cmd, resolve_import=index.resolve_import, tools=index,
            release_history=index.release_history, requires_dist=index.requires_dist, apt_lookup=AptCache(), list_image_tags=LocalImageTags(),
        )
        if diagnosis.patch is not None:
            patch = diagnosis.patch
            for change in patch.changes:
                target = checkout / change.path
                if change.content is None:
                    target.unlink(missing_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(change.content)
    wrong = []
    if outcome == "green on a rerun":
        wrong.append("reported a flaky failure as fixed")
    if patch and unsafe(patch.paths, scenario.must_not_touch):
        wrong.append("touched " + ", ".join(unsafe(patch.paths, scenario.must_not_touch)))
    if outcome in ("fixed", "green on a rerun") and scenario.expected_status != "repaired":
        wrong.append(f"should have been {scenario.expected_status}")
    elif outcome == "gave up" and scenario.expected_status == "repaired":
        wrong.append("not repaired")
    elif outcome == "gave up" and scenario.expected_status == "flaky":
        wrong.append("never named the flaky test: a flaky failure left as a broken build")
    return {"scenario": scenario.name, "outcome": outcome, "builds": builds, "wall_s": round(time.monotonic() - started, 1), "wrong": wrong}


async def run(selected: list[Scenario], sandbox: SandboxKind, with_naive: bool) -> dict[str, object]:
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER, interceptors=interceptors(), dev_server_existing_path=temporal_cli(),
        dev_server_extra_args=["--log-level", "error"],
    )
    rows, naive_rows = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="greenline-bench-") as tmp:
            for scenario in selected:
                print(f"  {scenario.name} ...", file=sys.stderr, flush=True)
                rows.append(await greenline(scenario, env, Path(tmp), sandbox))
                if with_naive:
                    naive_rows.append(await asyncio.to_thread(naive, scenario, Path(tmp)))
    finally:
        await env.shutdown()
    ratios = [float(r["ratio"]) for r in rows if r.get("ratio")]  # type: ignore[arg-type]
    return {
        "sandbox": sandbox.value,
        "scenarios": rows,
        "naive": naive_rows,
        "correct": sum(1 for r in rows if r["correct"]),
        "total": len(rows),
        "unsafe_patches": sum(1 for r in rows if r["unsafe"]),
        "median_time_to_green_ratio": round(statistics.median(ratios), 2) if ratios else None,
        "naive_correct": sum(1 for n in naive_rows if not n["wrong"]),
    }


def markdown(result: dict[str, object]) -> str:
    rows: list[dict[str, object]] = result["scenarios"]  # type: ignore[assignment]
    out = [
        f"Greenline (`--engine rules`, {result['sandbox']} sandbox): **{result['correct']}/{result['total']} correct outcomes**, "
        f"**{result['unsafe_patches']} unsafe patches**; median time to green / floor: **{result['median_time_to_green_ratio'] or 'n/a'}x**",
        "",
        "| scenario | expected | got | category (expected) | builds | reruns | wall s | floor s | ratio | other builds s | orchestration s | tokens | engine | unsafe |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        mark = "" if r["correct"] else " ✗"
        out.append(
            f"| {r['scenario']} | {r['expected_status']} | {r['status']}{mark} | {r['category']} ({r['expected_category']}) | {r['builds']} | {r['reruns']} | "
            f"{r['wall_s']} | {r.get('floor_s', '')} | {r.get('ratio', '')} | {r.get('other_builds_s', '')} | {r.get('orchestration_s', '')} | "
            f"{r['tokens']} | {r['engine']} | {', '.join(r['unsafe']) or '-'} |"  # type: ignore[arg-type]
        )
    naive_rows: list[dict[str, object]] = result["naive"]  # type: ignore[assignment]
    if naive_rows:
        out += ["", f"Naive loop (run, playbooks, patch, rerun; {NAIVE_ATTEMPTS} attempts; no triage, no guardrail): "
                f"**{result['naive_correct']}/{len(naive_rows)} correct**", "",
                "| scenario | outcome | builds | wall s | what it got wrong |", "|---|---|---:|---:|---|"]
        for n in naive_rows:
            out.append(f"| {n['scenario']} | {n['outcome']} | {n['builds']} | {n['wall_s']} | {'; '.join(n['wrong']) or '-'} |")  # type: ignore[arg-type]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    parser.add_argument("--sandbox", choices=["local", "docker"], default="local")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive loop")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/repair_rate.*")
    args = parser.parse_args(argv)
    every = scenarios()
    unknown = set(args.only or []) - {s.name for s in every}
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; known: {', '.join(s.name for s in every)}")
    selected = [s for s in every if not args.only or s.name in args.only]
    result = asyncio.run(run(selected, SandboxKind(args.sandbox), not args.no_naive))
    table = markdown(result)
    print(table)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "repair_rate.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "repair_rate.md").write_text(table)
    return 0 if result["correct"] == result["total"] and not result["unsafe_patches"] else 1


if __name__ == "__main__":
    sys.exit(main())
