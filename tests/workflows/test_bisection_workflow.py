"""The dependency bisection inside RepairWorkflow (time-skipping server, fake activities, every
workflow task replayed): probe builds carry pip constraints, their count is bounded, the
culprits go to the diagnose activity, and a freeze with nothing changed costs no build."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from activities import names
from models import BuildRequest, BuildResult, Category, DiagnoseRequest, Diagnosis, Status
from tests.workflows.fakes import FakeActivities, build_result, patch
from tests.workflows.test_repair_workflow import request, running, start
from specialists.releases import parse_freeze

GOOD = {f"dist{i}": "1.0" for i in range(9)}
BAD = {f"dist{i}": "2.0" for i in range(9)}
CULPRIT = "dist6"
NO_FIX = Diagnosis(category=Category.LOGIC, specialist="logic", summary="test_x fails", escalate_reason="a logic error in the project")
PIN = Diagnosis(category=Category.DEPENDENCY, specialist="dependency-bisection", summary=f"pin {CULPRIT}==1.0", patch=patch(f"{CULPRIT}==1.0"), confidence=0.9)


def freeze(versions: dict[str, str]) -> str:
    return "".join(f"{name}=={version}\n" for name, version in versions.items())


@dataclass
class DriftedBuilds(FakeActivities):
    """Builds install ``BAD`` except what their constraints hold back; they fail while the
    culprit is at its new version."""

    installs: dict[str, str] = field(default_factory=lambda: dict(BAD))

    @activity.defn(name=names.RUN_BUILD)
    async def run_build(self, request: BuildRequest) -> BuildResult:  # type: ignore[override]
        self.builds.append(request)
        installed = dict(self.installs)
        if request.constraints:
            installed.update(parse_freeze(request.constraints))
        if request.patch is not None:
            installed[CULPRIT] = "1.0"
        broken = installed.get(CULPRIT) != GOOD[CULPRIT]
        return build_result(request.label, 1 if broken else 0).model_copy(update={"environment": freeze(installed)})

    @activity.defn(name=names.DIAGNOSE)
    async def diagnose(self, request: DiagnoseRequest) -> Diagnosis:  # type: ignore[override]
        self.diagnose_calls.append(request)
        return PIN if request.bisection is not None else NO_FIX


def drifted(**kwargs: object) -> DriftedBuilds:
    return DriftedBuilds(fix_ids={PIN.patch.id}, **kwargs)  # type: ignore[union-attr, arg-type]


async def test_probes_hold_changes_back_and_the_culprit_is_pinned(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = drifted()
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request(known_good_env=freeze(GOOD)))).result()
    assert result.status == Status.REPAIRED, result.reason
    assert result.bisection is not None and [c.name for c in result.bisection.culprits] == [CULPRIT]
    probes = [b for b in fakes.builds if b.constraints is not None]
    assert 1 <= len(probes) <= 5 and len(result.bisection.probes) == len(probes)
    # Every probe names every changed distribution: floating ones at 2.0, the rest at 1.0.
    for probe, outcome in zip(probes, result.bisection.probes, strict=True):
        pinned = parse_freeze(probe.constraints)
        assert set(pinned) == set(GOOD)
        assert {n for n, v in pinned.items() if v == "2.0"} == set(outcome.floating)
    assert fakes.diagnose_calls[-1].bisection == result.bisection
    assert result.spent.builds == 1 + len(probes) + 1
    assert result.to_json_contract()["bisection"] == {"changed": 9, "culprits": [f"{CULPRIT} 1.0 -> 2.0"], "builds": len(probes), "conclusive": True}


async def test_nothing_changed_since_the_last_green_build_costs_no_probe(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = drifted()
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request(known_good_env=freeze(BAD)))).result()
    assert result.status == Status.ESCALATED
    assert "not dependency drift" in result.reason and "a logic error in the project" in result.reason
    assert [b for b in fakes.builds if b.constraints is not None] == []


async def test_without_a_known_good_environment_there_is_no_bisection(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = drifted()
    async with running(time_skipping_env, fakes) as (client, queue):
        result = await (await start(client, queue, request())).result()
    assert result.status == Status.ESCALATED and result.bisection is None
    assert len(fakes.builds) == 1
