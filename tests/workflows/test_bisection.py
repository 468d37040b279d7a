"""The dependency bisection planner, driven without Temporal by oracles that say which sets of
floating changes break the build."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from models import ArtifactRef, BuildResult, SandboxKind
from models import TestReport as Report
from models.bisection import Bisection, BisectionProbe, ProbeOutcome, VersionChange
from workflows import bisection

GOOD = "\n".join(["attrs==21.4.0", "certifi==2022.5.18", "-e git+https://example.invalid/x.git#egg=x", "idna==3.3", "pytest==8.3.4", "pytz==2022.1", "six==1.15.0"])
BAD = "\n".join(["attrs==24.2.0", "certifi==2024.8.30", "idna==3.10", "pytest==8.3.4", "pytz==2024.2", "six==1.16.0", "tomli==2.0.1", "mylib @ file:///src/mylib"])


def changes(n: int) -> list[VersionChange]:
    return [VersionChange(name=f"dist{i:02d}", good="1.0", bad="2.0") for i in range(n)]


def run(all_changes: list[VersionChange], breaks: Callable[[set[str]], bool], max_probes: int = 50) -> Bisection:
    outcomes: list[ProbeOutcome] = []
    while True:
        step = bisection.next_step(all_changes, outcomes, max_probes=max_probes)
        if isinstance(step, Bisection):
            return step
        assert isinstance(step, BisectionProbe)
        assert frozenset(step.floating) not in {frozenset(o.floating) for o in outcomes}, "a probe was built twice"
        outcomes.append(ProbeOutcome(floating=step.floating, reproduced=breaks(set(step.floating)), exit_code=1, duration_s=1.0))


def test_changed_lists_only_distributions_installed_in_both_at_other_versions() -> None:
    found = bisection.changed(GOOD, BAD)
    assert [c.describe() for c in found] == [
        "attrs 21.4.0 -> 24.2.0",
        "certifi 2022.5.18 -> 2024.8.30",
        "idna 3.3 -> 3.10",
        "pytz 2022.1 -> 2024.2",
        "six 1.15.0 -> 1.16.0",
    ]
    assert bisection.changed(GOOD, GOOD) == []
    assert bisection.changed(None, BAD) == []


def test_constraints_hold_back_all_but_the_floating_changes() -> None:
    found = bisection.changed(GOOD, BAD)
    assert bisection.constraints(found, ["idna", "six"]).splitlines() == [
        "attrs==21.4.0",
        "certifi==2022.5.18",
        "idna==3.10",
        "pytz==2022.1",
        "six==1.16.0",
    ]


@pytest.mark.parametrize("n", [8, 9, 13, 16])
def test_a_single_culprit_is_found_in_at_most_log2_n_plus_one_builds(n: int) -> None:
    for position in range(n):
        culprit = f"dist{position:02d}"
        found = run(changes(n), lambda floating, c=culprit: c in floating)
        assert [c.name for c in found.culprits] == [culprit]
        assert found.conclusive
        assert len(found.probes) <= math.ceil(math.log2(n)) + 1, (culprit, [p.floating for p in found.probes])


def test_one_culprit_among_eight_takes_at_most_five_builds_whatever_its_place() -> None:
    worst = max(len(run(changes(8), lambda floating, c=f"dist{i:02d}": c in floating).probes) for i in range(8))
    assert worst <= 5


def test_two_interacting_culprits_are_both_found() -> None:
    # The build breaks only when both have moved (a new pair of versions that do not agree).
    found = run(changes(10), lambda floating: {"dist02", "dist07"} <= floating)
    assert sorted(c.name for c in found.culprits) == ["dist02", "dist07"]
    assert found.conclusive


def test_a_failure_that_persists_with_every_change_held_back_is_not_drift() -> None:
    found = run(changes(8), lambda floating: True)
    assert found.culprits == [] and not found.conclusive
    assert "does not come from dependency drift" in found.reason
    assert found.probes[-1].floating == []


def test_the_probe_budget_bounds_the_search() -> None:
    found = run(changes(16), lambda floating: {"dist01", "dist14"} <= floating, max_probes=3)
    assert not found.conclusive and len(found.probes) == 3
    assert "within 3 probe builds" in found.reason


def _build(exit_code: int, signature: str, failed: list[str] | None = None) -> BuildResult:
    tests = Report(failed_ids=failed or [], failed=len(failed or [])) if failed is not None else None
    return BuildResult(label="b", exit_code=exit_code, duration_s=1.0, log=ArtifactRef(sha256="0", size=0, uri="x"), excerpt="", signature=signature, tests=tests, sandbox=SandboxKind.LOCAL)


def test_a_probe_reproduces_only_the_same_failure() -> None:
    failing = _build(1, "sig-a", ["tests/test_tz.py::test_offset"])
    assert bisection.reproduces(_build(1, "sig-a"), failing)
    assert bisection.reproduces(_build(1, "sig-b", ["tests/test_tz.py::test_offset", "tests/test_x.py::test_y"]), failing)
    assert not bisection.reproduces(_build(0, "sig-a"), failing)
    # Another failure (e.g. pip could not resolve the mixed versions) does not count.
    assert not bisection.reproduces(_build(1, "sig-resolver"), failing)
