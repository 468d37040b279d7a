"""Flaky triage: which reruns of a failing test to make, the verdict they support, and what the
verdicts say about the build.

The planner is a pure function of the reruns made so far, so the workflow can drive it (each
rerun a durable activity; replay rebuilds the plan) and the benchmark can drive it without
Temporal. It stops as soon as the verdict is certain:

1. the test alone. Failing, it is rerun alone up to ``confirmations`` times in all: a pass
   proves flakiness; failing every time, it is deterministic.
2. passing alone, the test is rerun after the tests that ran before it in the failing build:
   a pass there proves flakiness (same code, same order, both outcomes).
3. failing after them again, it is order-dependent: the tests before it are bisected for the
   one that pollutes it (as iDFlakies and detect-test-pollution do): run the first half then
   the test; failing, the polluter is in that half; passing, it is in the other half (taken
   without a run, and confirmed with one run when a single test is left). The suspect is then
   checked (right after it the test fails, alone it passes) until that is sure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from models import BuildResult, Category
from models.triage import RerunOutcome, RerunPurpose, RerunResult, RerunStep, Flakiness, Triage, FlakinessVerdict

# Reruns alone that must all fail before a test is called deterministic: a test failing half
# the time passes the 4 runs (with the build's) with probability 1/16.
CONFIRMATIONS = 3


def next_step(
    test: str,
    before: Sequence[str],
    outcomes: Sequence[RerunOutcome],
    *,
    max_reruns: int,
    confirmations: int = CONFIRMATIONS,
) -> RerunStep | FlakinessVerdict:
    """The next rerun to make for ``test`` (which failed after ``before`` in the build), or the
    verdict when the reruns made so far settle it or ``max_reruns`` allows no more."""
    outcomes = list(outcomes)
    can_rerun = len(outcomes) < max_reruns

    def verdict(kind: Flakiness, confidence: float, reason: str, polluters: Sequence[str] = ()) -> FlakinessVerdict:
        return FlakinessVerdict(test=test, kind=kind, confidence=round(confidence, 3), reason=reason, polluters=list(polluters), reruns=outcomes)

    def rerun(purpose: RerunPurpose, selection: Sequence[str]) -> RerunStep:
        return RerunStep(test=test, purpose=purpose, selection=[*selection, test])

    missing = [o for o in outcomes if o.result == RerunResult.NOT_RUN]
    if missing:
        return verdict(Flakiness.INCONCLUSIVE, 0.0, f"a rerun did not run the test ({missing[0].step.describe()}): the build step may not run pytest, or broke before the tests")
    alone = [o for o in outcomes if o.step.purpose == RerunPurpose.ISOLATED]
    if not alone:
        if not can_rerun:
            return verdict(Flakiness.INCONCLUSIVE, 0.0, "no rerun allowed by the budget")
        return rerun(RerunPurpose.ISOLATED, [])

    if alone[0].result == RerunResult.FAILED:
        if any(o.result == RerunResult.PASSED for o in alone):
            return verdict(Flakiness.FLAKY, 1.0, "failed alone and passed alone on the same code")
        failures = len(alone)
        if failures < confirmations and can_rerun:
            return rerun(RerunPurpose.ISOLATED, [])
        # Counting the failing build: a test that fails at most half the time would fail
        # this often in a row with probability 0.5 ** (failures + 1).
        return verdict(
            Flakiness.DETERMINISTIC,
            1 - 0.5 ** (failures + 1),
            f"failed in the build and in {failures} rerun(s) alone",
        )

    # It passed alone.
    if not before:
        return verdict(Flakiness.FLAKY, 1.0, "failed when it ran alone in the build, passed alone on the same code")
    in_order = [o for o in outcomes if o.step.purpose == RerunPurpose.IN_ORDER]
    if not in_order:
        if not can_rerun:
            return verdict(Flakiness.INCONCLUSIVE, 0.5, "passed alone; no rerun left to try the original order")
        return rerun(RerunPurpose.IN_ORDER, before)
    if any(o.result == RerunResult.PASSED for o in in_order):
        return verdict(Flakiness.FLAKY, 1.0, f"failed and then passed after the same {len(before)} test(s) on the same code")

    candidates, confirmed, broken = _bisect(list(before), [o for o in outcomes if o.step.purpose == RerunPurpose.BISECT])
    if broken:
        # No single part of the tests before it pollutes it: either it needs several of them,
        # or it is flaky and the bisection followed chance. The original order again tells.
        if len(in_order) == 1 and can_rerun:
            return rerun(RerunPurpose.IN_ORDER, before)
        return verdict(
            Flakiness.ORDER_DEPENDENT,
            _confidence(fails=len(in_order), passes=1),
            "passes alone and fails after the tests that ran before it, but no single part of them pollutes it on its own",
        )
    if len(candidates) == 1 and confirmed:
        return _check_polluter(candidates[0], outcomes, can_rerun, verdict, rerun)
    if not can_rerun:
        return verdict(
            Flakiness.ORDER_DEPENDENT,
            min(0.75, _confidence(fails=1, passes=1)),
            f"passes alone and fails after the tests that ran before it; the polluter is among {len(candidates)} test(s) (rerun budget used up)",
            candidates,
        )
    if len(candidates) == 1:
        return rerun(RerunPurpose.BISECT, candidates)
    return rerun(RerunPurpose.BISECT, candidates[: len(candidates) // 2])


# A suspected polluter is checked until the runs made after it was found make it this sure.
POLLUTER_CONFIDENCE = 0.9


def _check_polluter(
    suspect: str,
    outcomes: list[RerunOutcome],
    can_rerun: bool,
    verdict: Callable[..., FlakinessVerdict],
    rerun: Callable[[RerunPurpose, Sequence[str]], RerunStep],
) -> RerunStep | FlakinessVerdict:
    """The bisection chose its suspect from the outcomes it saw, so those outcomes cannot also
    vouch for it: a flaky test sends a bisection to a random "polluter". Runs made after the
    suspect is fixed can: right after the suspect the test must fail, and alone pass, every
    time. Any other outcome proves flakiness."""
    checks = [o for o in outcomes if o.step.purpose == RerunPurpose.CONFIRM]
    for check in checks:
        if check.result == RerunResult.PASSED and len(check.step.selection) == 2:
            return verdict(Flakiness.FLAKY, 1.0, f"failed and then passed right after {suspect} on the same code")
        if check.result == RerunResult.FAILED and len(check.step.selection) == 1:
            return verdict(Flakiness.FLAKY, 1.0, "passed alone and then failed alone on the same code")
    after = sum(len(c.step.selection) == 2 for c in checks)
    alone = len(checks) - after
    # The first run alone and the first in the original order were chosen before any outcome.
    confidence = _confidence(fails=1 + after, passes=1 + alone)
    if confidence >= POLLUTER_CONFIDENCE or not can_rerun:
        return verdict(Flakiness.ORDER_DEPENDENT, confidence, f"passes alone and fails right after {suspect}", [suspect])
    return rerun(RerunPurpose.CONFIRM, [suspect] if after <= alone else [])


def _confidence(*, fails: int, passes: int) -> float:
    """How unlikely a test failing at random would fail in the ``fails`` runs with the
    polluter(s) and pass in the ``passes`` runs without: the likelihood of that under a failure
    rate q is q^f (1-q)^p, largest at q = f / (f + p); the confidence is one minus it."""
    if passes == 0 or fails == 0:
        return 0.5
    rate = fails / (fails + passes)
    return 1 - rate**fails * (1 - rate) ** passes


def _bisect(before: list[str], runs: list[RerunOutcome]) -> tuple[list[str], bool, bool]:
    """Replays the bisection: the tests the polluter is among, whether a run confirmed that
    set, and whether a confirmation contradicted an inference (no single polluter)."""
    candidates, confirmed = before, True  # the in-order rerun failed after all of ``before``
    for run in runs:
        subset = run.step.selection[:-1]
        if run.result == RerunResult.FAILED:
            candidates, confirmed = subset, True
        elif subset == candidates:
            return candidates, False, True
        else:
            dropped = set(subset)
            candidates, confirmed = [t for t in candidates if t not in dropped], False
    return candidates, confirmed, False


def result_of(test: str, build: BuildResult) -> RerunResult:
    """What a rerun build says about ``test``."""
    tests = build.tests
    if tests is None:
        return RerunResult.NOT_RUN
    if test in tests.failed_ids:
        return RerunResult.FAILED
    if test in tests.passed_ids:
        return RerunResult.PASSED
    return RerunResult.NOT_RUN


def tests_before(test: str, executed: Sequence[str]) -> list[str]:
    """The tests that ran before ``test`` in the failing build, in their order."""
    executed = list(executed)
    return executed[: executed.index(test)] if test in executed else []


def from_verdicts(verdicts: Sequence[FlakinessVerdict], failing: Sequence[str]) -> Triage:
    """The triage the reruns support: a deterministic failure makes the build's failure a
    logic one, whatever else is flaky; otherwise order-dependent before flaky."""
    evidence = [f"{v.test}: {v.kind.value} ({v.reason})" for v in verdicts]
    evidence += [o.describe() for v in verdicts for o in v.reruns]
    unexamined = [t for t in failing if t not in {v.test for v in verdicts}]
    if unexamined:
        evidence.append(f"{len(unexamined)} more failing test(s) not rerun: {', '.join(unexamined[:5])}")
    by_kind = {kind: [v for v in verdicts if v.kind == kind] for kind in Flakiness}

    def triage(category: Category, confidence: float, summary: str) -> Triage:
        return Triage(category=category, confidence=round(confidence, 3), summary=summary, evidence=evidence, failing_tests=list(failing))

    if by_kind[Flakiness.DETERMINISTIC]:
        v = by_kind[Flakiness.DETERMINISTIC][0]
        return triage(Category.LOGIC, v.confidence, f"{v.test} fails deterministically: {v.reason}")
    if by_kind[Flakiness.INCONCLUSIVE] or not verdicts:
        reason = by_kind[Flakiness.INCONCLUSIVE][0].reason if by_kind[Flakiness.INCONCLUSIVE] else "no test was rerun"
        return triage(Category.LOGIC, 0.4, f"reruns were inconclusive: {reason}")
    # Failing tests left unexamined might hide a deterministic failure.
    penalty = 0.8 if unexamined else 1.0
    if by_kind[Flakiness.ORDER_DEPENDENT]:
        victims = by_kind[Flakiness.ORDER_DEPENDENT]
        named = "; ".join(f"{v.test} after {', '.join(v.polluters) if v.polluters else 'a combination of earlier tests'}" for v in victims)
        return triage(Category.ORDER_DEPENDENT, min(v.confidence for v in victims) * penalty, f"order-dependent: {named}")
    flaky = by_kind[Flakiness.FLAKY]
    return triage(Category.FLAKY, min(v.confidence for v in flaky) * penalty, f"flaky: {', '.join(v.test for v in flaky)} both failed and passed on the same code")
