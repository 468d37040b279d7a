"""A config file the build opens is missing, its template sits next to it: created from the
template, rebuilt for real, verified (the bench corpus's scenario, on the real dev server)."""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from models import Category, RepairRequest, SandboxKind, Status
from tests.integration.helpers import ROOT, git, repair_in_process, settings_for

SCENARIO = ROOT / "bench" / "corpus" / "config-from-template"


@pytest.mark.integration
async def test_a_missing_config_file_is_created_from_its_template(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SCENARIO / "repo", repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "config only as a template")
    cmd = tomllib.loads((SCENARIO / "scenario.toml").read_text())["cmd"].replace("{python}", sys.executable)
    result = await repair_in_process(
        dev_server_env, settings_for(tmp_path), RepairRequest(repo_path=str(repo), cmd=cmd, sandbox=SandboxKind.LOCAL, auto_approve=True),
    )
    assert result.status == Status.REPAIRED, result.reason
    assert result.classification == Category.ENVIRONMENT
    assert git(repo, "diff", "--name-only", f"HEAD..{result.branch}").splitlines() == ["config/app.toml"]
    assert git(repo, "show", f"{result.branch}:config/app.toml") == (repo / "config" / "app.toml.example").read_text().rstrip("\n")
