"""The repository's ``.greenline.toml`` inside RepairWorkflow: who may approve, what is approved
without asking, what a repair may spend, and the policy handed to the reviewer."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from models import ApprovalDecision, Category, Phase, Policy, PolicyBudget, Status
from tests.workflows.fakes import FakeActivities, dependency_diagnosis
from tests.workflows.test_repair_workflow import request, running, start, wait_for_phase
from workflows import RepairWorkflow


async def test_only_the_policys_approvers_may_decide(time_skipping_env: WorkflowEnvironment) -> None:
    fix = dependency_diagnosis("PyYAML")
    fakes = FakeActivities(diagnoses=[fix], fix_ids={fix.patch.id}, policy=Policy(approvers=["carol"]))  # type: ignore[union-attr]
    async with running(time_skipping_env, fakes) as (client, queue):
        handle = await start(client, queue, request(auto_approve=False))
        await wait_for_phase(handle, Phase.AWAITING_APPROVAL)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(RepairWorkflow.decide, ApprovalDecision(approve=True, approver="mallory"))
        assert "names the approvers: carol" in str(refused.value.cause)
        await handle.execute_update(RepairWorkflow.decide, ApprovalDecision(approve=True, approver="carol"))
        result = await handle.result()
    assert result.status == Status.REPAIRED and result.approver == "carol"
    assert fakes.reviews[0].policy.approvers == ["carol"]


async def test_a_category_the_policy_auto_approves_needs_no_human(time_skipping_env: WorkflowEnvironment) -> None:
    fix = dependency_diagnosis("PyYAML")
    fakes = FakeActivities(diagnoses=[fix], fix_ids={fix.patch.id}, policy=Policy(auto_approve_categories=[Category.DEPENDENCY]))  # type: ignore[union-attr]
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request(auto_approve=False))).result()
    assert result.status == Status.REPAIRED
    assert result.approver == "policy: auto_approve_categories has dependency"


async def test_the_policy_budget_overrides_the_requests(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = FakeActivities(diagnoses=[dependency_diagnosis(f"pkg{i}") for i in range(5)], policy=Policy(budget=PolicyBudget(max_attempts=1)))
    async with running(time_skipping_env, fakes) as (client, queue):
        handle = await start(client, queue, request())
        result = await handle.result()
        status = await handle.query(RepairWorkflow.status)
    assert result.status == Status.ESCALATED and "not fixed within 1 attempt" in result.reason
    assert status.budget.max_attempts == 1
