"""Crash test: SIGKILL the worker process during a rebuild, start a new one; the repair
finishes, its attempt count and budget carry on, its orphaned build is killed, and exactly one
branch is created."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from greenline.settings import Settings
from models import Budget, Phase, RepairRequest, SandboxKind, Status
from tests.integration.helpers import ROOT, example_repo, git, processes_with, settings_for
from workflows import RepairWorkflow

# The rebuild (the one with PyYAML added) lingers, so the worker can be killed in the middle of it.
SLOW_REBUILD = (
    "pip install -q -r requirements.txt && "
    "if grep -qi pyyaml requirements.txt; then sleep 8; fi && python -m pytest -q"
)


def worker_environment(env: WorkflowEnvironment, settings: Settings, **extra: str) -> dict[str, str]:
    """What ``python worker.py`` needs to serve ``settings``' queues on the test's server."""
    return {
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "GREENLINE_STATE_DIR": str(settings.state_dir),
        "GREENLINE_TASK_QUEUE": settings.task_queue,
        "GREENLINE_SANDBOX_TASK_QUEUE": settings.sandbox_task_queue,
        **extra,
    }


def start_worker(env: WorkflowEnvironment, settings_env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    environ = {**os.environ, **settings_env}
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, str(ROOT / "worker.py")], env=environ, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.integration
async def test_repair_survives_sigkill_of_its_worker(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = example_repo("missing-dependency", tmp_path)
    settings = settings_for(tmp_path)
    worker_env = worker_environment(dev_server_env, settings)
    log = tmp_path / "workers.log"
    first = start_worker(dev_server_env, worker_env, log)
    second: subprocess.Popen[bytes] | None = None
    workflow_id = f"repair-{uuid.uuid4().hex[:8]}"
    try:
        handle = await dev_server_env.client.start_workflow(
            RepairWorkflow.run,
            RepairRequest(
                repo_path=str(repo), cmd=SLOW_REBUILD, sandbox=SandboxKind.LOCAL, auto_approve=True,
                budget=Budget(max_attempts=3), sandbox_task_queue=settings.sandbox_task_queue,
            ),
            id=workflow_id, task_queue=settings.task_queue,
        )
        for _ in range(600):
            state = await handle.query(RepairWorkflow.status)
            if state.phase == Phase.REBUILDING and processes_with(f"GREENLINE_BUILD_ID={workflow_id}"):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the rebuild never started; worker log:\n{log.read_text()}")
        await asyncio.sleep(2)  # well inside the rebuild's sleep
        before = await handle.query(RepairWorkflow.status)
        first.send_signal(signal.SIGKILL)
        first.wait()
        orphans = processes_with(f"GREENLINE_BUILD_ID={workflow_id}")
        assert orphans, "the killed worker's build should still be running (it is in its own process group)"

        second = start_worker(dev_server_env, worker_env, log)
        result = await asyncio.wait_for(handle.result(), timeout=240)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()

    assert result.status == Status.REPAIRED, result.reason
    # Attempts continued where they were; the budget spent before the crash was kept.
    assert before.attempt == 1 and before.spent.builds == 1
    assert result.spent.attempts == 1 and result.spent.builds == 2
    # The rebuild activity was retried after its heartbeat timed out.
    history = await handle.fetch_history()
    build_starts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert max(build_starts) >= 2
    # The new worker killed the orphaned build before running its own.
    assert not set(orphans) & set(processes_with(f"GREENLINE_BUILD_ID={workflow_id}"))
    # Exactly one branch: greenline/<id>.
    branches = git(repo, "branch", "--list", "greenline/*", "--format=%(refname:short)").splitlines()
    assert branches == [f"greenline/{workflow_id}"]

