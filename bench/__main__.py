"""Every Greenline benchmark, one command.

    python -m bench [--quick] [--only NAME ...]

Runs, each as its own process (a failure of one does not hide the others):

- ``repair_rate``: the corpus (examples and bench/corpus/) repaired for real, against the naive loop;
- ``flaky_triage``: flaky-test verdicts and reruns against ``pytest --reruns N``;
- ``guardrail``: harmful patches refused, benign ones accepted;
- ``logchunks``: log distillation on 797 real CI logs;
- ``llm_tokens``: the LLM engine's request against the naive prompt;
- ``caches``: builds with a cold and a warm pip cache, and what a fresh sandbox costs;
- ``concurrency``: repairs at once on one worker against one after the other.

``--quick`` shrinks each to a development size (a few scenarios, one repeat, 100 logs). Results go
to bench/results/*.json and *.md; bench/results/summary.md lists what ran, how long it took and
whether it met its targets. Exits 1 when any benchmark missed a target or failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
QUICK_SCENARIOS = ["missing-dependency", "flaky-leaked-temp-file", "logic-off-by-one"]
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    # name: (full arguments, --quick arguments)
    "repair_rate": ([], [a for s in QUICK_SCENARIOS for a in ("--only", s)]),
    "flaky_triage": (["--repeat", "5"], ["--repeat", "1"]),
    "guardrail": ([], []),
    "logchunks": ([], ["--limit", "100", "--synthetic-mb", "20"]),
    "llm_tokens": ([], ["--only", "missing-dependency", "--logchunks-limit", "100"]),
    "caches": (["--repeat", "2"], ["--repeat", "1", "--no-docker"]),
    "concurrency": ([], ["--repairs", "2"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="development sizes; results are not written over the full ones")
    parser.add_argument("--only", action="append", choices=sorted(BENCHES), help="run only this benchmark (repeatable)")
    args = parser.parse_args(argv)
    rows = []
    for name, (full, quick) in BENCHES.items():
        if args.only and name not in args.only:
            continue
        command = [sys.executable, "-m", f"bench.{name}", *(quick if args.quick else full)]
        if args.quick and name != "logchunks":  # logchunks never writes a partial run
            command.append("--no-write")
        print(f"== bench.{name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        code = subprocess.run(command, check=False).returncode
        rows.append((name, code, time.monotonic() - started))
    lines = ["| benchmark | result | minutes |", "|---|---|---:|"]
    lines += [f"| `python -m bench.{name}` | {'met its targets' if code == 0 else f'missed a target or failed (exit {code}): see its report'} | {seconds / 60:.1f} |" for name, code, seconds in rows]
    lines.append(f"| total | | {sum(s for _, _, s in rows) / 60:.1f} |")
    summary = "\n".join(lines) + "\n"
    print(summary)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "summary.md").write_text(summary)
    return 0 if all(code == 0 for _, code, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
