"""Contracts of a repair: the request, its budget, its state, the approval, the result."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from models.bisection import Bisection
from models.budget import Budget
from models.build import BuildResult, SandboxKind
from models.patch import Category, Diagnosis, Engine, Patch, ReviewVerdict
from models.policy import Policy
from models.triage import FlakinessVerdict, Triage


class Spent(BaseModel):
    """What a repair has used so far. Lives in workflow state, so replay rebuilds it."""

    attempts: int = 0
    builds: int = 0
    tokens_input: int = 0
    tokens_output: int = 0
    usd: float = 0.0
    build_s: float = 0.0
    reruns: int = 0


class RepairRequest(BaseModel):
    """The one argument of ``RepairWorkflow``."""

    repo_path: str
    subdir: str = ""
    cmd: str
    sandbox: SandboxKind
    engine: Engine = Engine.AUTO
    budget: Budget = Field(default_factory=Budget)
    auto_approve: bool = False
    approval_timeout_s: float = Field(default=24 * 3600.0, gt=0)
    build_timeout_s: int = Field(default=1800, gt=0)
    known_good_env: str | None = None
    # Builds run on workers of this task queue (hosts with docker); ``None``: the workflow's own.
    sandbox_task_queue: str | None = None
    # First wait before retrying a build that failed on the network; doubles at each retry.
    retry_delay_s: float = Field(default=15.0, ge=0)
    # One model call's time limit (the LLM engine); a call that hangs past it is retried.
    llm_timeout_s: float = Field(default=120.0, gt=0, le=3600)


class WorkspaceInfo(BaseModel):
    """The repository under repair, pinned at the commit every build starts from, and the
    policy its ``.greenline.toml`` sets at that commit."""

    repo_path: str
    commit: str
    branch: str | None
    policy: Policy = Field(default_factory=Policy)


class Status(StrEnum):
    GREEN = "green"
    REPAIRED = "repaired"
    FLAKY = "flaky"
    ESCALATED = "escalated"
    REJECTED = "rejected"
    FAILED = "failed"


class Phase(StrEnum):
    PREPARING = "preparing"
    BUILDING = "building"
    TRIAGING = "triaging"
    DIAGNOSING = "diagnosing"
    BISECTING = "bisecting"
    REVIEWING = "reviewing"
    REBUILDING = "rebuilding"
    VERIFYING = "verifying"
    AWAITING_APPROVAL = "awaiting_approval"
    PUBLISHING = "publishing"
    DONE = "done"


class DiagnoseRequest(BaseModel):
    repo_path: str
    subdir: str = ""
    commit: str
    cmd: str
    engine: Engine
    build: BuildResult
    base_patch: Patch | None = None
    tried_patch_ids: list[str] = Field(default_factory=list)
    known_good_env: str | None = None
    # A conclusive dependency bisection: pin its culprits back to their last green versions.
    bisection: Bisection | None = None


class ReviewRequest(BaseModel):
    repo_path: str
    commit: str
    patch: Patch
    policy: Policy = Field(default_factory=Policy)


class VerifyRequest(BaseModel):
    failing: BuildResult
    rebuild: BuildResult


class Verification(BaseModel):
    verified: bool
    reason: str


class PublishRequest(BaseModel):
    workflow_id: str
    repo_path: str
    commit: str
    patch: Patch
    message: str


class PublishResult(BaseModel):
    branch: str
    commit: str


class Attempt(BaseModel):
    """One Reason-Act-Verify cycle: the hypothesis, the review and what the rebuild said."""

    number: int
    diagnosis: Diagnosis
    review: ReviewVerdict | None = None
    rebuild: BuildResult | None = None
    verification: Verification | None = None


class ApprovalDecision(BaseModel):
    """Payload of the ``decide`` update (and the ``approve``/``reject`` signals)."""

    approve: bool
    patch_id: str | None = None
    approver: str = "unknown"
    reason: str = ""


class AuditEvent(BaseModel):
    at: str
    phase: Phase
    message: str


class RepairStatus(BaseModel):
    """Answer of the ``status`` query."""

    workflow_id: str
    phase: Phase
    attempt: int
    spent: Spent
    budget: Budget
    classification: Category | None = None
    triage: Triage | None = None
    last_verdict: str | None = None
    pending_patch: Patch | None = None
    pending_diagnosis: str | None = None
    status: Status | None = None


class RepairResult(BaseModel):
    """The workflow's result; ``to_json_contract`` gives the CLI's ``--json`` object."""

    workflow_id: str
    status: Status
    classification: Category | None = None
    branch: str | None = None
    patch: Patch | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    spent: Spent = Field(default_factory=Spent)
    duration_s: float = 0.0
    reason: str = ""
    flaky_tests: list[str] = Field(default_factory=list)
    triage: Triage | None = None
    test_verdicts: list[FlakinessVerdict] = Field(default_factory=list)
    failing_build: BuildResult | None = None
    audit: list[AuditEvent] = Field(default_factory=list)
    approver: str | None = None
    bisection: Bisection | None = None

    def grounds(self) -> tuple[float | None, list[str]]:
        """How sure the classification is and the lines it rests on: triage's, unless triage
        could not tell and a specialist's diagnosis did (``bash: x: command not found``)."""
        if self.triage is not None and self.triage.category != Category.UNKNOWN:
            return self.triage.confidence, list(self.triage.evidence)
        if self.classification not in (None, Category.UNKNOWN):
            for attempt in reversed(self.attempts):
                if attempt.diagnosis.category == self.classification:
                    return attempt.diagnosis.confidence, list(attempt.diagnosis.evidence)
        return (self.triage.confidence, list(self.triage.evidence)) if self.triage else (None, [])

    def to_json_contract(self) -> dict[str, object]:
        confidence, evidence = self.grounds()
        return {
            "workflow_id": self.workflow_id,
            "status": self.status.value,
            "classification": self.classification.value if self.classification else "none",
            "confidence": confidence,
            "evidence": evidence,
            "branch": self.branch,
            "patch": self.patch.diff if self.patch else None,
            "attempts": self.spent.attempts,
            "duration_s": round(self.duration_s, 3),
            "builds_run": self.spent.builds,
            "tokens": {"input": self.spent.tokens_input, "output": self.spent.tokens_output},
            "cost_usd": round(self.spent.usd, 6),
            "flaky_tests": list(self.flaky_tests),
            "polluters": {v.test: list(v.polluters) for v in self.test_verdicts if v.polluters},
            "bisection": None if self.bisection is None else {
                "changed": len(self.bisection.changes),
                "culprits": [c.describe() for c in self.bisection.culprits],
                "builds": len(self.bisection.probes),
                "conclusive": self.bisection.conclusive,
            },
            "reason": self.reason,
        }


