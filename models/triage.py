"""Contracts of triage: what kind of failure a build has, on what evidence, and how the failing
tests behaved when they were run again."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from models.build import BuildResult
from models.patch import Category


class TriageRequest(BaseModel):
    build: BuildResult
    cmd: str


class Triage(BaseModel):
    """The classification of one failing build, from its log and its per-test results."""

    category: Category
    confidence: float
    summary: str
    evidence: list[str] = Field(default_factory=list)
    # Tests that failed (node ids, in the order they ran).
    failing_tests: list[str] = Field(default_factory=list)
    # Whether the failing tests must be rerun to tell flaky, order-dependent and logic apart.
    rerun_tests: bool = False


class RerunPurpose(StrEnum):
    ISOLATED = "isolated"  # the test alone
    IN_ORDER = "in-order"  # the tests that ran before it in the failing build, then it
    BISECT = "bisect"  # a part of those tests, then it: looking for the one that pollutes it
    CONFIRM = "confirm"  # the suspected polluter then it, or it alone: checking the suspect


class RerunStep(BaseModel):
    test: str
    purpose: RerunPurpose
    selection: list[str]

    def describe(self) -> str:
        if self.purpose == RerunPurpose.ISOLATED:
            return f"{self.test} alone"
        before = len(self.selection) - 1
        if self.purpose == RerunPurpose.CONFIRM:
            return f"{self.test} right after {self.selection[0]}" if before else f"{self.test} alone (check)"
        if self.purpose == RerunPurpose.IN_ORDER:
            return f"{self.test} after the {before} test(s) that ran before it"
        return f"{self.test} after {before} of the tests that ran before it ({_names(self.selection[:-1])})"


class RerunResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not-run"  # the rerun did not run the test (selection not honoured, build broke first)


class RerunOutcome(BaseModel):
    step: RerunStep
    result: RerunResult
    duration_s: float = 0.0

    def describe(self) -> str:
        return f"rerun {self.step.describe()}: {self.result.value}"


class Flakiness(StrEnum):
    FLAKY = "flaky"
    ORDER_DEPENDENT = "order-dependent"
    DETERMINISTIC = "deterministic"
    INCONCLUSIVE = "inconclusive"


class FlakinessVerdict(BaseModel):
    """How one failing test behaves, from the reruns it took to know."""

    test: str
    kind: Flakiness
    confidence: float
    reason: str
    polluters: list[str] = Field(default_factory=list)
    reruns: list[RerunOutcome] = Field(default_factory=list)


def _names(tests: list[str], limit: int = 3) -> str:
    shown = ", ".join(tests[:limit])
    return shown + (f" and {len(tests) - limit} more" if len(tests) > limit else "")
