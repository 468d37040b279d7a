"""The rerun planner, driven by simulated test behaviours: the fewest reruns to a certain verdict."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from models import Category, Flakiness, FlakinessVerdict, RerunOutcome, RerunPurpose, RerunResult, RerunStep
from workflows import flaky_triage

T = "tests/test_x.py::test_victim"
BEFORE = [f"tests/test_a.py::test_{n}" for n in range(16)]


def drive(fails: Callable[[list[str], int], bool], before: list[str] = BEFORE, max_reruns: int = 20) -> FlakinessVerdict:
    """Runs the planner to its verdict; ``fails(selection, run_number)`` plays the test."""
    outcomes: list[RerunOutcome] = []
    while True:
        step = flaky_triage.next_step(T, before, outcomes, max_reruns=max_reruns)
        if isinstance(step, FlakinessVerdict):
            return step
        assert isinstance(step, RerunStep) and step.selection[-1] == T
        result = RerunResult.FAILED if fails(step.selection, len(outcomes)) else RerunResult.PASSED
        outcomes.append(RerunOutcome(step=step, result=result))


def test_deterministic_after_three_failures_alone() -> None:
    verdict = drive(lambda selection, n: True)
    assert verdict.kind == Flakiness.DETERMINISTIC and len(verdict.reruns) == 3
    # a test failing half the time would fail the build and 3 reruns with probability 1/16
    assert verdict.confidence == round(1 - 0.5**4, 3)


def test_more_confirmations_raise_the_confidence() -> None:
    outcomes: list[RerunOutcome] = []
    while not isinstance(step := flaky_triage.next_step(T, BEFORE, outcomes, max_reruns=9, confirmations=4), FlakinessVerdict):
        outcomes.append(RerunOutcome(step=step, result=RerunResult.FAILED))
    assert step.kind == Flakiness.DETERMINISTIC and len(step.reruns) == 4 and step.confidence == round(1 - 0.5**5, 3)


def test_a_pass_alone_after_failing_alone_is_certain_flakiness() -> None:
    verdict = drive(lambda selection, n: n == 0)
    assert verdict.kind == Flakiness.FLAKY and verdict.confidence == 1.0 and len(verdict.reruns) == 2


def test_a_test_that_ran_first_and_passes_alone_is_flaky_in_one_rerun() -> None:
    verdict = drive(lambda selection, n: False, before=[])
    assert verdict.kind == Flakiness.FLAKY and len(verdict.reruns) == 1


@pytest.mark.parametrize("polluter", [0, 5, 8, 15])
def test_the_single_polluter_is_found_in_log2_reruns(polluter: int) -> None:
    verdict = drive(lambda selection, n: BEFORE[polluter] in selection)
    assert verdict.kind == Flakiness.ORDER_DEPENDENT and verdict.polluters == [BEFORE[polluter]]
    assert verdict.confidence >= flaky_triage.POLLUTER_CONFIDENCE
    # alone, in order, log2(16) halvings, a confirmation, then the suspect checked twice
    assert len(verdict.reruns) <= 2 + 4 + 1 + 2


def test_a_pair_of_polluters_in_both_halves_is_reported_without_a_single_culprit() -> None:
    verdict = drive(lambda selection, n: BEFORE[2] in selection and BEFORE[12] in selection)
    assert verdict.kind == Flakiness.ORDER_DEPENDENT and verdict.polluters == []
    assert verdict.confidence < 1.0 and "no single part" in verdict.reason
    assert [o.step.purpose for o in verdict.reruns].count(RerunPurpose.IN_ORDER) == 2  # the original order, twice


def test_a_bisection_that_contradicts_itself_and_a_pass_in_order_prove_flakiness() -> None:
    # Fails in the build, passes alone, fails in order, then fails or passes at random: here
    # the bisection's halves pass, its confirmation passes, and the original order passes.
    script = iter([False, True, False, False, False, False, False, False])
    verdict = drive(lambda selection, n: next(script))
    assert verdict.kind == Flakiness.FLAKY and verdict.confidence == 1.0


def test_a_suspect_found_by_chance_is_caught_by_its_checks() -> None:
    # A flaky test whose outcomes happen to bisect cleanly to test_0 (the first half of every
    # split fails), then passes right after its "polluter" when checked.
    def play(selection: list[str], n: int) -> bool:
        if len(selection) == 1:
            return False  # passes alone
        checking = n >= 2 + 4  # after alone, in order and 4 halvings
        return not checking and BEFORE[0] in selection

    verdict = drive(play)
    assert verdict.kind == Flakiness.FLAKY and "right after tests/test_a.py::test_0" in verdict.reason


def test_a_rerun_that_did_not_run_the_test_is_inconclusive() -> None:
    step = flaky_triage.next_step(T, BEFORE, [], max_reruns=5)
    assert isinstance(step, RerunStep)
    verdict = flaky_triage.next_step(T, BEFORE, [RerunOutcome(step=step, result=RerunResult.NOT_RUN)], max_reruns=5)
    assert isinstance(verdict, FlakinessVerdict) and verdict.kind == Flakiness.INCONCLUSIVE


def test_no_budget_no_rerun() -> None:
    verdict = flaky_triage.next_step(T, BEFORE, [], max_reruns=0)
    assert isinstance(verdict, FlakinessVerdict) and verdict.kind == Flakiness.INCONCLUSIVE and verdict.reruns == []


def test_the_build_is_a_logic_failure_when_any_test_is_deterministic() -> None:
    flaky = drive(lambda selection, n: False)
    deterministic = drive(lambda selection, n: True).model_copy(update={"test": "tests/test_y.py::test_bug"})
    triage = flaky_triage.from_verdicts([flaky, deterministic], [T, "tests/test_y.py::test_bug"])
    assert triage.category == Category.LOGIC and "test_bug" in triage.summary
    assert flaky_triage.from_verdicts([flaky], [T]).category == Category.FLAKY


def test_unexamined_failing_tests_lower_the_confidence_and_are_named() -> None:
    flaky = drive(lambda selection, n: False)
    triage = flaky_triage.from_verdicts([flaky], [T, "tests/test_z.py::test_other"])
    assert triage.category == Category.FLAKY and triage.confidence < 1.0
    assert any("test_other" in line for line in triage.evidence)
