"""Records the history that ``test_replay.py`` replays:  python -m tests.workflows.record_history

Run it again only when an intended, incompatible change to RepairWorkflow lands (and say so in
the change): the point of the committed history is to catch unintended ones.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from greenline.client import DATA_CONVERTER
from greenline.devserver import temporal_cli
from models import ApprovalDecision, Budget, Phase, RepairRequest, SandboxKind
from tests.workflows.fakes import FakeActivities, dependency_diagnosis, patch
from workflows import RepairWorkflow

HISTORY = Path(__file__).parent / "histories" / "repair_two_attempts_approved.json"


async def record() -> None:
    cheat = dependency_diagnosis("x").model_copy(update={"patch": patch("cheat"), "summary": "cheat"})
    first, second = dependency_diagnosis("PyYAML"), dependency_diagnosis("python-dateutil")
    fakes = FakeActivities(diagnoses=[cheat, first, second], refused_ids={cheat.patch.id}, fix_ids={second.patch.id})  # type: ignore[union-attr]
    env = await WorkflowEnvironment.start_local(data_converter=DATA_CONVERTER, dev_server_existing_path=temporal_cli())
    try:
        queue = f"record-{uuid.uuid4().hex}"
        async with Worker(env.client, task_queue=queue, workflows=[RepairWorkflow], activities=fakes.all()):
            handle = await env.client.start_workflow(
                RepairWorkflow.run,
                RepairRequest(repo_path="/repo", cmd="pytest", sandbox=SandboxKind.LOCAL, budget=Budget(max_attempts=5)),
                id="repair-recorded",
                task_queue=queue,
            )
            while (await handle.query(RepairWorkflow.status)).phase != Phase.AWAITING_APPROVAL:
                await asyncio.sleep(0.1)
            await handle.execute_update(RepairWorkflow.decide, ApprovalDecision(approve=True, approver="recorder"))
            await handle.result()
            history = await handle.fetch_history()
        HISTORY.parent.mkdir(exist_ok=True)
        HISTORY.write_text(history.to_json())
        print(f"wrote {HISTORY}")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record())
    # temporalio can abort while Python finalises (sdk-python#300); the work is done.
    os._exit(0)
