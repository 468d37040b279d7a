"""Dependency drift repaired end to end on the real dev server: real pip against the real
index the host's pip is configured for, real builds, real git. An upstream release that broke
a pinned downstream (werkzeug 3 and flask 2.2.2) and a resolver conflict between two pins
(flask 3.0.0 and werkzeug 2.3.7), each as the rule playbooks alone repair it."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from models import Category, Engine, RepairRequest, SandboxKind, Status
from tests.integration.helpers import EXAMPLE_COMMANDS, example_repo, git, greenline_containers, repair_in_process, settings_for

pytestmark = pytest.mark.integration

# example → (specialist, the requirements.txt lines the fix changes: removed, added)
EXPECTED = {
    "upstream-breaking-release": ("upstream-release", set(), {"werkzeug==2.3.8"}),
    "resolver-conflict": ("resolver-conflict", {"werkzeug==2.3.7"}, {"werkzeug==3.0.0"}),
}

SANDBOXES = [
    pytest.param(SandboxKind.LOCAL, id="local"),
    pytest.param(SandboxKind.DOCKER, id="docker", marks=pytest.mark.docker),
]


def changed_lines(diff: str) -> tuple[set[str], set[str]]:
    removed = {line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")}
    added = {line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")}
    return removed, added


async def repair(env: WorkflowEnvironment, tmp_path: Path, example: str, sandbox: SandboxKind) -> tuple[Path, str, object]:
    repo = example_repo(example, tmp_path)
    head = git(repo, "rev-parse", "HEAD")
    result = await repair_in_process(
        env, settings_for(tmp_path),
        RepairRequest(repo_path=str(repo), cmd=EXAMPLE_COMMANDS[example], sandbox=sandbox, engine=Engine.RULES, auto_approve=True),
    )
    return repo, head, result


@pytest.mark.parametrize("example", sorted(EXPECTED))
async def test_drift_is_repaired_with_the_smallest_requirement_change(dev_server_env: WorkflowEnvironment, tmp_path: Path, example: str) -> None:
    repo, head, result = await repair(dev_server_env, tmp_path, example, SandboxKind.LOCAL)
    specialist, removed, added = EXPECTED[example]
    assert result.status == Status.REPAIRED, result.reason
    assert result.classification == Category.DEPENDENCY
    assert result.spent.attempts == 1 and result.spent.builds == 2
    diagnosis = result.attempts[-1].diagnosis
    assert diagnosis.specialist == specialist
    # The failing build's pip freeze reached the diagnosis (what it really installed).
    if example == "upstream-breaking-release":
        assert result.failing_build is not None and "Werkzeug==3." in (result.failing_build.environment or "")
        assert any("werkzeug 3.0.0" in e for e in diagnosis.evidence)
    # One requirement line changes, on a new branch; comments and the rest stay.
    assert result.patch is not None and changed_lines(result.patch.diff) == (removed, added)
    assert git(repo, "diff", "--name-only", f"HEAD..{result.branch}").splitlines() == ["requirements.txt"]
    fixed = git(repo, "show", f"{result.branch}:requirements.txt")
    assert fixed.splitlines()[0].startswith("# ") and "flask==" in fixed
    # The user's branch and work tree are as they were.
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""
    final = result.attempts[-1]
    assert final.verification is not None and final.verification.verified
    assert final.rebuild is not None and final.rebuild.tests is not None and final.rebuild.tests.passed == 2


@pytest.mark.docker
async def test_upstream_release_is_repaired_in_the_docker_sandbox(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    _, _, result = await repair(dev_server_env, tmp_path, "upstream-breaking-release", SandboxKind.DOCKER)
    assert result.status == Status.REPAIRED, result.reason
    assert result.attempts[-1].diagnosis.specialist == "upstream-release"
    assert result.patch is not None and changed_lines(result.patch.diff) == (set(), {"werkzeug==2.3.8"})
    final = result.attempts[-1]
    assert final.rebuild is not None and final.rebuild.sandbox == SandboxKind.DOCKER
    assert final.verification is not None and final.verification.verified
    assert greenline_containers() == []
