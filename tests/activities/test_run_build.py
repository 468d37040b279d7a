"""run_build in an activity context: a real git checkout, the local sandbox, real pytest; a
triage rerun runs exactly the tests it selects, in the order it gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.artifacts import ArtifactStore
from activities.repair import RepairActivities
from activities.sandbox.local import LocalSandbox
from models import BuildRequest, SandboxKind
from tests.git_repos import commit_files

SUITE = {
    "tests/test_order.py": """\
import pytest

seen = []

def test_first():
    seen.append("first")

def test_second():
    seen.append("second")

@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    seen.append(n)

class TestGroup:
    def test_reports_order(self):
        print("ORDER", seen)
""",
    "tests/test_other.py": "def test_elsewhere():\n    assert False, 'boom'\n",
}
# The build's fresh venv has no pytest, and installing it would need the network: the build
# step calls the interpreter this suite runs on, which has it.
CMD = f"{sys.executable} -m pytest -q -s -p no:cacheprovider"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    return repo, commit_files(repo, SUITE)


def build(repo: tuple[Path, str], tmp_path: Path, tests: list[str] | None) -> tuple[object, str]:
    activities = RepairActivities(
        ArtifactStore(tmp_path / "artifacts"),
        {SandboxKind.LOCAL: LocalSandbox()},
        resolve_import=lambda name: None,
        scratch_dir=tmp_path,
    )
    request = BuildRequest(workflow_id="wf", repo_path=str(repo[0]), commit=repo[1], cmd=CMD, sandbox=SandboxKind.LOCAL, tests=tests)
    result = ActivityEnvironment().run(activities.run_build, request)
    return result, activities.store.get(result.log).decode()


def test_the_whole_build_reports_node_ids_in_run_order(repo: tuple[Path, str], tmp_path: Path) -> None:
    result, _ = build(repo, tmp_path, None)
    assert not result.passed
    assert result.tests.executed_ids == [
        "tests/test_order.py::test_first",
        "tests/test_order.py::test_second",
        "tests/test_order.py::test_param[1]",
        "tests/test_order.py::test_param[2]",
        "tests/test_order.py::TestGroup::test_reports_order",
        "tests/test_other.py::test_elsewhere",
    ]
    assert result.tests.failed_ids == ["tests/test_other.py::test_elsewhere"]
    assert result.tests.failure_messages["tests/test_other.py::test_elsewhere"].startswith("AssertionError: boom")


def test_a_rerun_runs_only_the_selected_tests_in_the_given_order(repo: tuple[Path, str], tmp_path: Path) -> None:
    selection = ["tests/test_order.py::test_param[2]", "tests/test_order.py::test_second", "tests/test_order.py::TestGroup::test_reports_order"]
    result, log = build(repo, tmp_path, selection)
    assert result.passed
    assert result.tests.executed_ids == selection
    assert "ORDER [2, 'second']" in log
