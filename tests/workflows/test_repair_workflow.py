"""RepairWorkflow on the time-skipping server, with fake activities under the real names.

Every worker runs with ``max_cached_workflows=0``: each workflow task replays the history from
the start, so any non-determinism fails these tests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models import ApprovalDecision, Budget, Phase, RepairRequest, RepairResult, SandboxKind, Status
from tests.workflows.fakes import FakeActivities, dependency_diagnosis, patch
from workflows import RepairWorkflow


def request(**overrides: object) -> RepairRequest:
    values: dict[str, object] = {"repo_path": "/repo", "cmd": "pytest", "sandbox": SandboxKind.LOCAL, "auto_approve": True}
    values.update(overrides)
    return RepairRequest.model_validate(values)


@asynccontextmanager
async def running(env: WorkflowEnvironment, fakes: FakeActivities) -> AsyncIterator[tuple[Client, str]]:
    queue = f"test-{uuid.uuid4().hex}"
    async with Worker(
        env.client, task_queue=queue, workflows=[RepairWorkflow], activities=fakes.all(), max_cached_workflows=0
    ):
        yield env.client, queue


async def start(client: Client, queue: str, req: RepairRequest) -> WorkflowHandle[RepairWorkflow, RepairResult]:
    return await client.start_workflow(RepairWorkflow.run, req, id=f"repair-{uuid.uuid4().hex[:8]}", task_queue=queue)


async def wait_for_phase(handle: WorkflowHandle[RepairWorkflow, RepairResult], phase: Phase) -> None:
    for _ in range(200):
        if (await handle.query(RepairWorkflow.status)).phase == phase:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"workflow never reached {phase}")


async def test_verified_fix_is_published_once(time_skipping_env: WorkflowEnvironment) -> None:
    fix = dependency_diagnosis("PyYAML")
    fakes = FakeActivities(diagnoses=[fix], fix_ids={fix.patch.id})  # type: ignore[union-attr]
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request())).result()
    assert result.status == Status.REPAIRED
    assert result.branch == f"greenline/{result.workflow_id}"
    assert result.spent.attempts == 1 and result.spent.builds == 2
    assert [p.patch.id for p in fakes.published] == [fix.patch.id]  # type: ignore[union-attr]
    assert result.to_json_contract()["patch"] == fix.patch.diff  # type: ignore[union-attr]


async def test_green_build_needs_no_repair(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = FakeActivities(initial_exit_code=0)
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request())).result()
    assert result.status == Status.GREEN
    assert fakes.diagnose_calls == [] and fakes.published == []


async def test_approval_timeout_escalates(time_skipping_env: WorkflowEnvironment) -> None:
    fix = dependency_diagnosis("PyYAML")
    fakes = FakeActivities(diagnoses=[fix], fix_ids={fix.patch.id})  # type: ignore[union-attr]
    async with running(time_skipping_env, fakes) as (client, queue):
        # Three hours of approval timeout pass in an instant on the time-skipping server.
        result = await (await start(client, queue, request(auto_approve=False, approval_timeout_s=3 * 3600))).result()
    assert result.status == Status.ESCALATED
    assert "no approval decision within 10800s" in result.reason
    assert fakes.published == []
    assert result.patch is not None and result.patch.id == fix.patch.id  # type: ignore[union-attr]


async def test_reject_by_update_publishes_nothing(time_skipping_env: WorkflowEnvironment) -> None:
    fix = dependency_diagnosis("PyYAML")
    fakes = FakeActivities(diagnoses=[fix], fix_ids={fix.patch.id})  # type: ignore[union-attr]
    async with running(time_skipping_env, fakes) as (client, queue):
        handle = await start(client, queue, request(auto_approve=False))
        await wait_for_phase(handle, Phase.AWAITING_APPROVAL)
        state = await handle.execute_update(RepairWorkflow.decide, ApprovalDecision(approve=False, approver="alice", reason="wrong pin"))
        result = await handle.result()
    assert state.phase in (Phase.AWAITING_APPROVAL, Phase.DONE)
    assert result.status == Status.REJECTED
    assert "alice" in result.reason and "wrong pin" in result.reason
    assert fakes.published == []


async def test_stale_or_early_decisions_are_refused_by_the_validator(time_skipping_env: WorkflowEnvironment) -> None:
    fix = dependency_diagnosis("PyYAML")
    fakes = FakeActivities(diagnoses=[fix], fix_ids={fix.patch.id})  # type: ignore[union-attr]
    async with running(time_skipping_env, fakes) as (client, queue):
        handle = await start(client, queue, request(auto_approve=False))
        await wait_for_phase(handle, Phase.AWAITING_APPROVAL)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(RepairWorkflow.decide, ApprovalDecision(approve=True, patch_id="not-the-patch"))
        await handle.execute_update(RepairWorkflow.decide, ApprovalDecision(approve=True, patch_id=fix.patch.id, approver="bob"))  # type: ignore[union-attr]
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(RepairWorkflow.decide, ApprovalDecision(approve=False))
        result = await handle.result()
    assert result.status == Status.REPAIRED and result.approver == "bob"
    assert len(fakes.published) == 1


async def test_attempt_budget_exhausted_escalates(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = FakeActivities(diagnoses=[dependency_diagnosis(f"pkg{i}") for i in range(10)])
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request(budget=Budget(max_attempts=2)))).result()
    assert result.status == Status.ESCALATED
    assert "not fixed within 2 attempt(s)" in result.reason
    assert len(fakes.diagnose_calls) == 2 and len(fakes.builds) == 3
    assert fakes.published == []


async def test_token_budget_is_checked_before_the_next_act_phase(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = FakeActivities(diagnoses=[dependency_diagnosis("pkg-a", tokens=6000), dependency_diagnosis("pkg-b", tokens=6000)])
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request(budget=Budget(max_attempts=5, max_tokens=5000)))).result()
    assert result.status == Status.ESCALATED
    assert "token budget of 5000 used up" in result.reason
    # The diagnosis that blew the budget is charged, and no rebuild ran on it.
    assert result.spent.tokens_input == 6000 and len(fakes.builds) == 1


async def test_a_repeated_patch_is_never_tried_twice(time_skipping_env: WorkflowEnvironment) -> None:
    same = dependency_diagnosis("PyYAML")
    fakes = FakeActivities(diagnoses=[same, same, same])
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request(budget=Budget(max_attempts=5)))).result()
    assert result.status == Status.ESCALATED
    assert "no new patch" in result.reason
    rebuilt = [b.patch.id for b in fakes.builds if b.patch is not None]
    assert rebuilt == [same.patch.id]  # type: ignore[union-attr]
    # The specialist was told which patches were already tried.
    assert fakes.diagnose_calls[1].tried_patch_ids == [same.patch.id]  # type: ignore[union-attr]


async def test_guardrail_refusal_is_not_built_and_progress_is_kept(time_skipping_env: WorkflowEnvironment) -> None:
    cheat, first, second = patch("delete-tests"), dependency_diagnosis("PyYAML"), dependency_diagnosis("python-dateutil")
    cheat_diagnosis = first.model_copy(update={"patch": cheat, "summary": "cheat"})
    fakes = FakeActivities(diagnoses=[cheat_diagnosis, first, second], refused_ids={cheat.id}, fix_ids={second.patch.id})  # type: ignore[union-attr]
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request(budget=Budget(max_attempts=5)))).result()
    assert result.status == Status.REPAIRED
    assert cheat.id not in [b.patch.id for b in fakes.builds if b.patch]
    assert result.attempts[0].review is not None and not result.attempts[0].review.accepted
    # The first real patch changed the failure, so the next diagnosis builds on it.
    assert fakes.diagnose_calls[2].base_patch is not None
    assert fakes.diagnose_calls[2].base_patch.id == first.patch.id  # type: ignore[union-attr]
