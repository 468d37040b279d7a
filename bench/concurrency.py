"""Repairs at once on one worker: the wall time of N concurrent repairs against the same N one
after the other.

    python -m bench.concurrency [--repairs N] [--example NAME] [--no-write]

Each repair is the example copied into a repository of its own, repaired for real (dev server,
one in-process worker for all of them, local sandbox, ``--engine rules``). Builds are processes
of their own, so on a machine with C cores the speed-up is bounded by C and by the index's
latency that overlapping builds hide.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from greenline.client import DATA_CONVERTER, interceptors
from greenline.devserver import temporal_cli
from models import Engine, RepairRequest, RepairResult, SandboxKind
from tests.integration.helpers import EXAMPLE_COMMANDS, example_repo, settings_for
from worker import build_workers
from workflows import RepairWorkflow

RESULTS = Path(__file__).parent / "results"


async def repairs(env: WorkflowEnvironment, scratch: Path, example: str, n: int, concurrent: bool) -> tuple[float, list[str]]:
    settings = settings_for(scratch / f"state-{uuid.uuid4().hex[:6]}")
    async with AsyncExitStack() as stack:
        for worker in build_workers(env.client, settings):
            await stack.enter_async_context(worker)
        requests = []
        for i in range(n):
            repo = example_repo(example, scratch / f"{'c' if concurrent else 's'}{i}")
            requests.append(RepairRequest(repo_path=str(repo), cmd=EXAMPLE_COMMANDS[example], sandbox=SandboxKind.LOCAL, auto_approve=True,
                                          engine=Engine.RULES, sandbox_task_queue=settings.sandbox_task_queue))

        async def one(request: RepairRequest) -> RepairResult:
            handle = await env.client.start_workflow(RepairWorkflow.run, request, id=f"bench-{uuid.uuid4().hex[:8]}", task_queue=settings.task_queue)
            return await handle.result()

        started = time.monotonic()
        if concurrent:
            results = await asyncio.gather(*(one(r) for r in requests))
        else:
            results = [await one(r) for r in requests]
        return time.monotonic() - started, [r.status.value for r in results]


async def run(example: str, n: int) -> dict[str, object]:
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER, interceptors=interceptors(), dev_server_existing_path=temporal_cli(),
        dev_server_extra_args=["--log-level", "error"],
    )
    try:
        with tempfile.TemporaryDirectory(prefix="greenline-bench-concurrency-") as tmp:
            sequential, seq_statuses = await repairs(env, Path(tmp), example, n, concurrent=False)
            together, con_statuses = await repairs(env, Path(tmp), example, n, concurrent=True)
    finally:
        await env.shutdown()
    return {
        "example": example, "repairs": n, "sequential_s": round(sequential, 1), "concurrent_s": round(together, 1),
        "speedup": round(sequential / together, 2), "statuses": sorted(set(seq_statuses + con_statuses)),
    }


def markdown(row: dict[str, object]) -> str:
    return (
        "| example | repairs | one after the other s | at once s | speed-up | statuses |\n|---|---:|---:|---:|---:|---|\n"
        f"| {row['example']} | {row['repairs']} | {row['sequential_s']} | {row['concurrent_s']} | {row['speedup']}x | {', '.join(row['statuses'])} |\n"  # type: ignore[arg-type]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repairs", type=int, default=4)
    parser.add_argument("--example", default="missing-env-var", choices=sorted(EXAMPLE_COMMANDS))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    row = asyncio.run(run(args.example, args.repairs))
    table = markdown(row)
    print(table)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "concurrency.json").write_text(json.dumps(row, indent=2) + "\n")
        (RESULTS / "concurrency.md").write_text(table)
    return 0 if row["statuses"] == ["repaired"] else 1


if __name__ == "__main__":
    sys.exit(main())
