"""Every example repaired end to end on the real dev server, in both sandboxes: real builds,
real pip, real git. The user's branch and work tree must come out untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from models import Category, RepairRequest, SandboxKind, Status
from tests.integration.helpers import EXAMPLE_COMMANDS, example_repo, git, greenline_containers, repair_in_process, settings_for

EXPECTED = {
    # example: (classification of the last attempt, attempts, files the fix changes)
    "missing-dependency": (Category.DEPENDENCY, 1, {"requirements.txt"}),
    "missing-env-var": (Category.ENVIRONMENT, 1, {"ci.env"}),
    "dependency-then-env": (Category.ENVIRONMENT, 2, {"requirements.txt", ".env"}),
    "missing-build-tools": (Category.DEPENDENCY, 2, {"requirements.txt"}),
}

SANDBOXES = [
    pytest.param(SandboxKind.LOCAL, id="local"),
    pytest.param(SandboxKind.DOCKER, id="docker", marks=pytest.mark.docker),
]


@pytest.mark.integration
@pytest.mark.parametrize("sandbox", SANDBOXES)
@pytest.mark.parametrize("example", sorted(EXPECTED))
async def test_example_is_repaired_on_a_new_branch(dev_server_env: WorkflowEnvironment, tmp_path: Path, example: str, sandbox: SandboxKind) -> None:
    repo = example_repo(example, tmp_path)
    head_before = git(repo, "rev-parse", "HEAD")
    settings = settings_for(tmp_path)
    result = await repair_in_process(
        dev_server_env, settings,
        RepairRequest(repo_path=str(repo), cmd=EXAMPLE_COMMANDS[example], sandbox=sandbox, auto_approve=True),
    )
    category, attempts, files = EXPECTED[example]
    assert result.status == Status.REPAIRED, result.reason
    assert result.classification == category
    assert result.spent.attempts == attempts and result.spent.builds == attempts + 1
    # The fix is a commit on greenline/<id>, on top of the user's HEAD, changing only what it should.
    assert result.branch == f"greenline/{result.workflow_id}"
    assert git(repo, "rev-parse", f"{result.branch}^") == head_before
    assert set(git(repo, "diff", "--name-only", f"HEAD..{result.branch}").splitlines()) == files
    # The user's branch and work tree are as they were.
    assert git(repo, "rev-parse", "HEAD") == head_before
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"
    assert git(repo, "status", "--porcelain") == ""
    # Verification saw every test pass, and the rebuild ran in the sandbox asked for.
    final = result.attempts[-1]
    assert final.verification is not None and final.verification.verified
    assert final.rebuild is not None and final.rebuild.sandbox == sandbox
    assert final.rebuild.tests is not None and final.rebuild.tests.failed == 0 and final.rebuild.tests.passed >= 2
    if sandbox == SandboxKind.DOCKER:
        assert greenline_containers() == []
