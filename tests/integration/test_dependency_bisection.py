"""Dependency drift bisected against the last green build: real pip, the real index, real
builds, the real dev server. Ten distributions moved since the last green build; one breaks it."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from models import Category, RepairRequest, SandboxKind, Status
from tests.integration.helpers import EXAMPLE_COMMANDS, example_repo, git, repair_in_process, settings_for

EXAMPLE = "dependency-bisection"


@pytest.mark.integration
async def test_the_one_culprit_among_ten_changes_is_found_and_pinned_back_in_at_most_five_builds(
    dev_server_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    repo = example_repo(EXAMPLE, tmp_path)
    head_before = git(repo, "rev-parse", "HEAD")
    freeze = (repo / "last-green-freeze.txt").read_text()
    result = await repair_in_process(
        dev_server_env, settings_for(tmp_path),
        RepairRequest(repo_path=str(repo), cmd=EXAMPLE_COMMANDS[EXAMPLE], sandbox=SandboxKind.LOCAL, auto_approve=True, known_good_env=freeze),
    )
    assert result.status == Status.REPAIRED, result.reason
    assert result.classification == Category.DEPENDENCY
    bisection = result.bisection
    assert bisection is not None and bisection.conclusive, bisection
    assert len(bisection.changes) >= 8
    assert [c.name for c in bisection.culprits] == ["packaging"]
    assert bisection.culprits[0].good == "21.3"
    assert len(bisection.probes) <= 5
    # The probes held changes back through pip constraints: the failing build's own failure
    # came back exactly when packaging floated.
    for probe in bisection.probes:
        assert probe.reproduced == ("packaging" in probe.floating), probe
    # Only packaging is pinned, in place, the file's comment and order kept.
    diff = git(repo, "diff", f"HEAD..{result.branch}", "--", "requirements.txt")
    assert [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))] == ["-packaging", "+packaging==21.3"]
    assert set(git(repo, "diff", "--name-only", f"HEAD..{result.branch}").splitlines()) == {"requirements.txt"}
    final = result.attempts[-1]
    assert final.verification is not None and final.verification.verified
    assert final.rebuild is not None and final.rebuild.environment is not None and "packaging==21.3" in final.rebuild.environment
    assert git(repo, "rev-parse", "HEAD") == head_before and git(repo, "status", "--porcelain") == ""
