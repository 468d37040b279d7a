"""What the shared pip cache and the reused sandbox image save, cold against warm.

    python -m bench.caches [--repeat N] [--no-docker] [--no-write]

Each case is one repository built by ``run_build`` (the repair's own activity) in a sandbox:
*cold* with an empty cache, then *warm* with the cache the cold build filled, ``--repeat``
times each (medians). Cases:

- ``wheels``: pure wheels from the configured index (downloads only: pip caches them when the
  index says they may be cached; this machine's proxy sends no ``Cache-Control``, so here the
  HTTP cache cannot help and the row shows what remains);
- ``sdist``: a distribution published only as a source archive (pip builds a wheel once; the
  cache keeps the wheel, so warm builds skip the build);
- ``sandbox start``: a build step of ``true``: what a fresh sandbox costs by itself (a new
  virtualenv locally; a container from the prebuilt image, reused, never rebuilt per build).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from temporalio.testing import ActivityEnvironment

from activities import git
from activities.artifacts import ArtifactStore
from activities.repair import RepairActivities
from activities.sandbox.docker import DockerSandbox
from activities.sandbox.local import LocalSandbox
from activities.sandbox.pip_cache import PipCache
from models import BuildRequest, SandboxKind

RESULTS = Path(__file__).parent / "results"
CASES = {
    "wheels": ("requests==2.32.3\nPyYAML\npython-dateutil\n", "pip install -q -r requirements.txt && python -c 'import requests, yaml, dateutil'"),
    "sdist": ("docopt==0.6.2\n", "pip install -q -r requirements.txt && python -c 'import docopt'"),
    "sandbox start": ("", "true"),
}


def repository(scratch: Path, requirements: str) -> tuple[Path, str]:
    repo = scratch / f"repo-{time.monotonic_ns()}"
    repo.mkdir()
    (repo / "requirements.txt").write_text(requirements)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "x"]):
        git.git(*args, cwd=repo)
    return repo, git.git("rev-parse", "HEAD", cwd=repo)


def build_seconds(activities: RepairActivities, repo: Path, commit: str, cmd: str, sandbox: SandboxKind) -> float:
    result = ActivityEnvironment().run(
        activities.run_build, BuildRequest(workflow_id="bench-caches", repo_path=str(repo), commit=commit, cmd=cmd, sandbox=sandbox)
    )
    if not result.passed:
        raise RuntimeError(f"the {sandbox.value} build of {repo} failed: {result.excerpt[-500:]}")
    return result.duration_s


def measure(sandbox: SandboxKind, repeat: int) -> list[dict[str, object]]:
    rows = []
    for case, (requirements, cmd) in CASES.items():
        cold, warm = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory(prefix="greenline-bench-caches-") as tmp:
                scratch = Path(tmp)
                activities = RepairActivities(
                    ArtifactStore(scratch / "artifacts"), {SandboxKind.LOCAL: LocalSandbox(), SandboxKind.DOCKER: DockerSandbox()},
                    resolve_import=lambda name: None, scratch_dir=scratch, pip_cache=PipCache(scratch / "cache"),
                )
                repo, commit = repository(scratch, requirements)
                cold.append(build_seconds(activities, repo, commit, cmd, sandbox))
                warm.append(build_seconds(activities, repo, commit, cmd, sandbox))
        c, w = statistics.median(cold), statistics.median(warm)
        rows.append({"sandbox": sandbox.value, "case": case, "cold_s": round(c, 2), "warm_s": round(w, 2), "saved_s": round(c - w, 2), "speedup": round(c / w, 2) if w else None})
        print(f"  {sandbox.value} {case}: cold {c:.1f}s, warm {w:.1f}s", file=sys.stderr, flush=True)
    return rows


def markdown(rows: list[dict[str, object]]) -> str:
    out = ["| sandbox | case | cold s | warm s | saved s | speed-up |", "|---|---|---:|---:|---:|---:|"]
    out += [f"| {r['sandbox']} | {r['case']} | {r['cold_s']} | {r['warm_s']} | {r['saved_s']} | {r['speedup']}x |" for r in rows]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    sandboxes = [SandboxKind.LOCAL] + ([] if args.no_docker else [SandboxKind.DOCKER])
    rows = [row for sandbox in sandboxes for row in measure(sandbox, args.repeat)]
    table = markdown(rows)
    print(table)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "caches.json").write_text(json.dumps(rows, indent=2) + "\n")
        (RESULTS / "caches.md").write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
