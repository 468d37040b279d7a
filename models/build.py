"""Contracts of a build: what to run, where, and what came out of it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from models.patch import Patch


class SandboxKind(StrEnum):
    """Where a build runs. ``auto`` is resolved by the CLI before a workflow starts."""

    DOCKER = "docker"
    LOCAL = "local"
    AUTO = "auto"


class ArtifactRef(BaseModel):
    """A content-addressed blob in the artifact store (logs, diffs). History carries only this."""

    sha256: str
    size: int
    uri: str


class TestReport(BaseModel):
    """Per-test results of one build, read from JUnit XML. Test ids are pytest node ids
    (``tests/test_x.py::TestY::test_z[param]``) when the XML says which file a test is in."""

    collected: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    collection_errors: int = 0
    passed_ids: list[str] = Field(default_factory=list)
    failed_ids: list[str] = Field(default_factory=list)
    # Every test that ran (not skipped), in the order it ran: the order a flaky-test triage
    # replays to find the test that pollutes another.
    executed_ids: list[str] = Field(default_factory=list)
    # The first line of each failing test's failure (``AssertionError: assert 4 == 5``).
    failure_messages: dict[str, str] = Field(default_factory=dict)


class BuildRequest(BaseModel):
    """Run the build of ``repo_path`` at ``commit`` (plus ``patch``) in a fresh sandbox."""

    workflow_id: str
    repo_path: str
    subdir: str = ""
    commit: str
    cmd: str
    sandbox: SandboxKind
    patch: Patch | None = None
    timeout_s: int = 1800
    label: str = "build"
    # Run only these tests, in this order (a triage rerun); ``None`` runs the build's own selection.
    tests: list[str] | None = None
    # pip constraints (``name==version`` lines) every pip install of the build honours: how a
    # dependency bisection holds some distributions at their last green versions.
    constraints: str | None = None


class BuildResult(BaseModel):
    """What one build produced. The full log stays in the artifact store."""

    label: str
    exit_code: int
    timed_out: bool = False
    duration_s: float
    log: ArtifactRef
    excerpt: str
    signature: str
    tests: TestReport | None = None
    sandbox: SandboxKind
    # ``pip freeze`` of the build's Python once the build step ran (``None``: no pip there):
    # what the build really installed, to compare with the last green build's.
    environment: str | None = None

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out
