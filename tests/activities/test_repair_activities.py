"""The repair activities on real git repositories: the policy read at the commit under repair,
and secrets kept out of everything a build result carries."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.artifacts import ArtifactStore
from activities.repair import RepairActivities
from activities.sandbox.local import LocalSandbox
from models import BuildRequest, Category, RepairRequest, SandboxKind
from tests.git_repos import commit_files


def commit_repo(path: Path, files: dict[str, str]) -> tuple[Path, str]:
    return path, commit_files(path, files)


def activities(tmp_path: Path) -> RepairActivities:
    return RepairActivities(ArtifactStore(tmp_path / "artifacts"), {SandboxKind.LOCAL: LocalSandbox()}, resolve_import=lambda name: None, scratch_dir=tmp_path)


def test_the_policy_is_read_at_the_commit_under_repair(tmp_path: Path) -> None:
    repo, _ = commit_repo(tmp_path / "repo", {".greenline.toml": 'approvers = ["carol"]\nauto_approve_categories = ["dependency"]\n'})
    # An uncommitted edit is not the policy of the commit being repaired.
    (repo / ".greenline.toml").write_text('approvers = ["mallory"]\n')
    info = ActivityEnvironment().run(activities(tmp_path).prepare_workspace, RepairRequest(repo_path=str(repo), cmd="true", sandbox=SandboxKind.LOCAL))
    assert info.policy.approvers == ["carol"] and info.policy.auto_approve_categories == [Category.DEPENDENCY]


def test_a_bad_policy_stops_the_repair_with_the_key_named(tmp_path: Path) -> None:
    repo, _ = commit_repo(tmp_path / "repo", {".greenline.toml": "allow_source_change = true\n"})
    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(activities(tmp_path).prepare_workspace, RepairRequest(repo_path=str(repo), cmd="true", sandbox=SandboxKind.LOCAL))
    assert raised.value.type == "BadInput" and raised.value.non_retryable
    assert ".greenline.toml" in raised.value.message and "allow_source_change" in raised.value.message


def test_secrets_a_build_prints_never_reach_its_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "tok-9f8e7d6c5b4a39281706")
    repo, commit = commit_repo(tmp_path / "repo", {"README.md": "app\n"})
    cmd = (
        "echo 'Error: upload failed for https://deploy:hunter2secret@registry.example.com/v2/'; "
        "echo 'Error: AWS rejected AKIAIOSFODNN7EXAMPLE'; "
        "echo 'Error: bad token tok-9f8e7d6c5b4a39281706'; exit 1"
    )
    result = ActivityEnvironment().run(
        activities(tmp_path).run_build, BuildRequest(workflow_id="wf", repo_path=str(repo), commit=commit, cmd=cmd, sandbox=SandboxKind.LOCAL)
    )
    assert not result.passed
    for secret in ("hunter2secret", "AKIAIOSFODNN7EXAMPLE", "tok-9f8e7d6c5b4a39281706"):
        assert secret not in result.model_dump_json()
    assert "[REDACTED:" in result.excerpt and "upload failed" in result.excerpt
