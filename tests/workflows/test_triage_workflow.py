"""Triage inside RepairWorkflow (time-skipping server, fake activities, replay forced): transient
failures are retried, failing tests are rerun until flaky / order-dependent / logic is certain."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from models import Budget, Category, Diagnosis, RerunPurpose, Status, Flakiness, Triage
from tests.workflows.fakes import FakeActivities, report
from tests.workflows.test_repair_workflow import request, running, start

TESTS = [f"tests/test_app.py::test_{n}" for n in range(8)]
VICTIM = "tests/test_state.py::test_default_config"
SUITE = [*TESTS, VICTIM]
RERUN_TRIAGE = Triage(category=Category.LOGIC, confidence=0.5, summary="a test fails", failing_tests=[VICTIM], rerun_tests=True)
TRANSIENT = Triage(category=Category.INFRA_TRANSIENT, confidence=0.9, summary="network", evidence=["ReadTimeoutError: Read timed out."])
LOGIC_ESCALATION = Diagnosis(category=Category.LOGIC, specialist="logic", summary="assertion fails", escalate_reason="logic error: assert 4 == 5")


def failing_suite(**overrides: object) -> FakeActivities:
    fakes = FakeActivities(triages=[RERUN_TRIAGE], tests=report(SUITE, [VICTIM]), diagnoses=[LOGIC_ESCALATION])
    for key, value in overrides.items():
        setattr(fakes, key, value)
    return fakes


async def test_a_test_that_passes_in_the_same_order_is_flaky(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = failing_suite(rerun=lambda selection: [])
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request())).result()
    assert result.status == Status.FLAKY and result.classification == Category.FLAKY
    assert result.flaky_tests == [VICTIM]
    reruns = [b.tests for b in fakes.builds if b.tests is not None]
    assert reruns == [[VICTIM], SUITE]  # alone, then in the original order: two reruns settle it
    assert fakes.diagnose_calls == [] and result.patch is None
    contract = result.to_json_contract()
    assert contract["confidence"] == 1.0 and contract["flaky_tests"] == [VICTIM]
    assert any("passed" in line for line in contract["evidence"])


async def test_an_order_dependent_test_has_its_polluter_found_by_bisection(time_skipping_env: WorkflowEnvironment) -> None:
    polluter = TESTS[3]
    fakes = failing_suite(rerun=lambda selection: [VICTIM] if polluter in selection else [])
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request())).result()
    assert result.status == Status.FLAKY and result.classification == Category.ORDER_DEPENDENT
    verdict = result.test_verdicts[0]
    assert verdict.kind == Flakiness.ORDER_DEPENDENT and verdict.polluters == [polluter] and verdict.confidence >= 0.9
    assert result.to_json_contract()["polluters"] == {VICTIM: [polluter]}
    # alone, in order, log2(8) halvings and a confirmation, then two checks of the suspect
    assert [o.step.purpose for o in verdict.reruns] == [RerunPurpose.ISOLATED, RerunPurpose.IN_ORDER] + [RerunPurpose.BISECT] * 4 + [RerunPurpose.CONFIRM] * 2
    assert result.spent.reruns == 8 and result.spent.builds == 9


async def test_a_test_failing_alone_every_time_is_a_logic_error_to_escalate(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = failing_suite(rerun=lambda selection: [VICTIM])
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request())).result()
    assert result.status == Status.ESCALATED and result.classification == Category.LOGIC
    assert [b.tests for b in fakes.builds if b.tests is not None] == [[VICTIM]] * 3
    assert result.triage is not None and result.triage.confidence == round(1 - 0.5**4, 3)
    assert len(fakes.diagnose_calls) == 1 and "logic error" in result.reason


async def test_the_rerun_budget_bounds_the_reruns_and_lowers_the_confidence(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = failing_suite(rerun=lambda selection: [VICTIM] if TESTS[5] in selection else [])
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request(budget=Budget(max_reruns=3)))).result()
    assert result.spent.reruns == 3
    assert result.classification == Category.ORDER_DEPENDENT and result.status == Status.FLAKY
    assert result.triage is not None and result.triage.confidence < 1.0
    assert result.test_verdicts[0].polluters == TESTS[4:]  # narrowed to half of the suite


async def test_a_transient_failure_is_retried_with_backoff_and_goes_green(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = FakeActivities(triages=[TRANSIENT], initial_exit_codes=[1, 0])
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request(retry_delay_s=600))).result()
    assert result.status == Status.GREEN and result.classification == Category.INFRA_TRANSIENT
    assert "passed on retry 1" in result.reason and result.patch is None
    assert fakes.diagnose_calls == [] and result.spent.builds == 2


async def test_a_transient_failure_that_persists_escalates_after_the_retries(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = FakeActivities(triages=[TRANSIENT], initial_exit_codes=[1])
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request(budget=Budget(max_transient_retries=2)))).result()
    assert result.status == Status.ESCALATED and "persists after 2 retries" in result.reason
    assert result.spent.builds == 3 and fakes.diagnose_calls == []


async def test_a_retry_that_fails_another_way_is_triaged_again(time_skipping_env: WorkflowEnvironment) -> None:
    fix = Diagnosis(category=Category.DEPENDENCY, specialist="deps", summary="pin", confidence=0.9)
    fakes = FakeActivities(triages=[TRANSIENT, Triage(category=Category.DEPENDENCY, confidence=0.8, summary="missing module")], initial_exit_codes=[1], diagnoses=[fix])
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request())).result()
    assert len(fakes.triage_calls) == 2 and fakes.triage_calls[1].build.label.startswith("retry #1")
    assert result.classification == Category.DEPENDENCY and result.status == Status.ESCALATED
