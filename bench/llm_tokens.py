"""What the LLM engine sends per model call, against the naive prompt (the whole log and every
file, whole), on real failing builds of the examples.

    python -m bench.llm_tokens [--only NAME] [--no-write]

Each example's failing build runs for real (local sandbox: a fresh virtualenv, the README's build
step); its raw log goes into both prompts. The engine's request is what ``activities/llm.py``
sends (system prompt, repository overview, the task with the distilled log, the files the failure
names and the manifests, the tool's schema); the naive one is the system prompt, the whole log
and every tracked file. Tokens are estimated at 3 characters a token for both (no tokenizer of
Claude's runs offline), so the ratio is the number to read.

The examples' logs are short; real CI logs are not. The second table puts the log part of both
prompts side by side on LogChunks' 797 real failed CI logs: the whole log (naive) against the
distilled excerpt the engine sends (4 KB). Writes bench/results/llm_tokens.json and .md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from activities import git
from activities.sandbox.base import BuildSpec
from activities.sandbox.local import LocalSandbox
from specialists import logs
from specialists.llm.answer import FIX_TOOLS
from specialists.llm.context import assemble, estimate_tokens, naive_prompt
from specialists.repo_view import RepoView

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
# The README's build step of each example.
EXAMPLES = {
    "missing-dependency": "pip install -q -r requirements.txt && python -m pytest -q",
    "missing-env-var": "set -a && . ./ci.env && set +a && pip install -q -r requirements.txt && python -m pytest -q",
    "dependency-then-env": "pip install -q -r requirements.txt && touch .env && set -a && . ./.env && set +a && python -m pytest -q",
}
CONTEXT_TOKENS = 24_000


def measure(name: str, cmd: str, scratch: Path) -> dict[str, object]:
    repo = scratch / name
    shutil.copytree(ROOT / "examples" / name, repo)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "broken"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    commit = git.git("rev-parse", "HEAD", cwd=repo)
    checkout = git.checkout(repo, commit, scratch / f"{name}-build")
    (checkout / ".greenline").mkdir(exist_ok=True)
    spec = BuildSpec(build_id=f"bench-{name}", workflow_id="bench", cmd=cmd, checkout=checkout, subdir="",
                     log_path=scratch / f"{name}.log", junit_path=checkout / ".greenline" / "junit.xml", timeout_s=600)
    outcome = LocalSandbox().run(spec, tick=lambda details: None, should_stop=lambda: False)
    raw = spec.log_path.read_text(errors="replace")
    lines = logs.clean(raw)
    view = RepoView(git.tracked_files(repo, commit))
    context = assemble(view, cmd=cmd, excerpt=logs.distill(lines), tests=None, tried=[], known_good_env=None, log_lines=lines,
                       rules_said=None, allow_source_changes=False, budget_tokens=CONTEXT_TOKENS)
    engine = context.tokens + estimate_tokens(json.dumps(FIX_TOOLS))
    naive = estimate_tokens(naive_prompt(view, raw)) + estimate_tokens(json.dumps(FIX_TOOLS))
    return {
        "example": name, "build_exit": outcome.exit_code, "log_bytes": len(raw.encode()),
        "engine_tokens": engine, "cached_prefix_tokens": estimate_tokens(context.system) + estimate_tokens(context.overview),
        "naive_tokens": naive, "ratio": round(naive / engine, 2), "files_shown": context.files,
    }


def logchunks(limit: int | None) -> dict[str, object]:
    """Log tokens per model call on real CI logs: the whole log against the distilled excerpt."""
    from bench.logchunks import DEFAULT_DATASET, load

    whole, distilled = [], []
    for _, raw in load(DEFAULT_DATASET, limit):
        lines = logs.clean(raw)
        whole.append(estimate_tokens(raw.decode("utf-8", errors="replace")))
        distilled.append(estimate_tokens(logs.distill(lines)))
    ratios = sorted(w / max(1, d) for w, d in zip(whole, distilled, strict=True))
    return {
        "logs": len(whole),
        "naive_median": int(statistics.median(whole)), "naive_p90": int(statistics.quantiles(whole, n=10)[-1]), "naive_max": max(whole),
        "engine_median": int(statistics.median(distilled)), "engine_max": max(distilled),
        "ratio_median": round(statistics.median(ratios), 1), "ratio_p90": round(statistics.quantiles(ratios, n=10)[-1], 1),
    }


def report(rows: list[dict[str, object]], real: dict[str, object] | None = None) -> str:
    out = ["| example | log | engine request (est. tokens) | of which cached prefix | naive prompt (est. tokens) | naive / engine |",
           "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['example']} | {r['log_bytes']} B | {r['engine_tokens']} | {r['cached_prefix_tokens']} | {r['naive_tokens']} | {r['ratio']}x |")
    if real:
        out += ["", f"Log part of the prompt on {real['logs']} real failed CI logs (LogChunks), estimated tokens:", "",
                "| | median | p90 | max |", "|---|---:|---:|---:|",
                f"| naive: the whole log | {real['naive_median']} | {real['naive_p90']} | {real['naive_max']} |",
                f"| engine: the distilled excerpt | {real['engine_median']} | | {real['engine_max']} |",
                f"| naive / engine | {real['ratio_median']}x | {real['ratio_p90']}x | |"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=sorted(EXAMPLES), help="measure only this example (repeatable)")
    parser.add_argument("--logchunks-limit", type=int, default=None, help="measure only the first N LogChunks logs (0: none)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/llm_tokens.*")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="greenline-bench-") as tmp:
        rows = [measure(name, cmd, Path(tmp)) for name, cmd in EXAMPLES.items() if not args.only or name in args.only]
    real = logchunks(args.logchunks_limit) if args.logchunks_limit != 0 else None
    table = report(rows, real)
    print(table)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "llm_tokens.json").write_text(json.dumps({"examples": rows, "logchunks": real}, indent=2) + "\n")
        (RESULTS / "llm_tokens.md").write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
