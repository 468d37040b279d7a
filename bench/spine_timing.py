"""Where the time of a repair goes: builds vs the rest of each activity vs Temporal.

    python -m bench.spine_timing [--sandbox local|docker] [--only EXAMPLE ...]

Repairs each example on a real dev server with an in-process worker, then reads the workflow
history: ``build`` is the time the build step ran in its sandbox (venv creation included),
``activities`` the time from each activity's start to its completion (checkouts, log storage,
diagnosis, git), and ``temporal`` the rest of the wall time (scheduling, workflow tasks, polling).
Writes bench/results/spine_timing.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from greenline.client import DATA_CONVERTER, interceptors
from greenline.devserver import temporal_cli
from models import RepairRequest, SandboxKind
from tests.integration.helpers import EXAMPLE_COMMANDS, example_repo, repair_in_process, settings_for
from workflows import RepairWorkflow

RESULTS = Path(__file__).parent / "results"


async def measure(sandbox: SandboxKind, only: list[str] | None) -> list[dict[str, object]]:
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER, interceptors=interceptors(),
        dev_server_existing_path=temporal_cli(),
        dev_server_extra_args=["--log-level", "error"],
    )
    rows = []
    try:
        for example, cmd in EXAMPLE_COMMANDS.items():
            if only and example not in only:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                repo = example_repo(example, Path(tmp))
                settings = settings_for(Path(tmp))
                result = await repair_in_process(env, settings, RepairRequest(repo_path=str(repo), cmd=cmd, sandbox=sandbox, auto_approve=True))
                history = await env.client.get_workflow_handle_for(RepairWorkflow.run, result.workflow_id).fetch_history()
            started: dict[int, float] = {}
            activity_s = 0.0
            events = list(history.events)
            for event in events:
                at = event.event_time.ToDatetime().timestamp()
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                    started[event.activity_task_started_event_attributes.scheduled_event_id] = at
                elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                    activity_s += at - started.pop(event.activity_task_completed_event_attributes.scheduled_event_id)
            wall = events[-1].event_time.ToDatetime().timestamp() - events[0].event_time.ToDatetime().timestamp()
            rows.append({
                "example": example, "sandbox": sandbox.value, "status": result.status.value,
                "attempts": result.spent.attempts, "builds": result.spent.builds,
                "wall_s": round(wall, 2), "build_s": round(result.spent.build_s, 2),
                "other_activity_s": round(activity_s - result.spent.build_s, 2),
                "temporal_s": round(wall - activity_s, 2),
                # Why a repair did not end repaired (the Dockerfile examples in the docker sandbox, say).
                "reason": "" if result.status.value == "repaired" else result.reason,
            })
    finally:
        await env.shutdown()
    return rows


def table(rows: list[dict[str, object]]) -> str:
    lines = ["| example | sandbox | status | attempts | builds | wall (s) | builds (s) | other activity work (s) | Temporal overhead (s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['example']} | {r['sandbox']} | {r['status']} | {r['attempts']} | {r['builds']} | {r['wall_s']} | {r['build_s']} | {r['other_activity_s']} | {r['temporal_s']} |")
    why = [f"- {r['example']} ({r['sandbox']}): {str(r['reason']).replace('|', '/')[:300]}" for r in rows if r.get("reason")]
    return "\n".join(lines + (["", "Not repaired:", *why] if why else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sandbox", choices=["local", "docker"], action="append")
    parser.add_argument("--only", action="append", help="an example to time (repeatable; default: every example)")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    for sandbox in args.sandbox or ["local", "docker"]:
        rows += asyncio.run(measure(SandboxKind(sandbox), args.only))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "spine_timing.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(table(rows), flush=True)
    os._exit(0)  # temporalio may abort at interpreter exit (sdk-python#300)


if __name__ == "__main__":
    main()
