"""Fake activities registered under the real names: scripted builds, diagnoses and verdicts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from temporalio import activity

from activities import names
from activities.errors import llm_not_configured
from models import (
    LLMDiagnoseRequest,
    LLMDiagnosis,
    SecurityReview,
    SecurityReviewRequest,
    ArtifactRef,
    BuildRequest,
    BuildResult,
    Category,
    DiagnoseRequest,
    Diagnosis,
    FileChange,
    Patch,
    Policy,
    PublishRequest,
    PublishResult,
    RepairRequest,
    ReviewRequest,
    ReviewVerdict,
    SandboxKind,
    TestReport,
    Triage,
    TriageRequest,
    Verification,
    VerifyRequest,
    WorkspaceInfo,
)


def patch(pin: str) -> Patch:
    return Patch(changes=[FileChange(path="requirements.txt", content=f"{pin}\n")], diff=f"+{pin}\n")


def build_result(label: str, exit_code: int, signature: str = "sig-a", tests: TestReport | None = None) -> BuildResult:
    return BuildResult(
        label=label,
        exit_code=exit_code,
        duration_s=1.5,
        log=ArtifactRef(sha256="0" * 64, size=0, uri="file:///dev/null"),
        excerpt="E   ModuleNotFoundError: No module named 'yaml'" if exit_code else "",
        signature=signature if exit_code else "green",
        sandbox=SandboxKind.LOCAL,
        tests=tests,
    )


def report(executed: list[str], failed: list[str]) -> TestReport:
    """Per-test results: ``executed`` in run order, ``failed`` among them."""
    passed = [t for t in executed if t not in failed]
    return TestReport(
        collected=len(executed), passed=len(passed), failed=len(failed),
        passed_ids=passed, failed_ids=[t for t in executed if t in failed], executed_ids=list(executed),
    )


DEPENDENCY_TRIAGE = Triage(category=Category.DEPENDENCY, confidence=0.8, summary="a module is missing")


@dataclass
class FakeActivities:
    """``fix_ids``: patch ids whose rebuild passes; ``diagnoses``, ``triages`` and
    ``initial_exit_codes`` (of builds without a patch): returned in turn (the last repeats);
    ``tests``: the per-test results of builds without a patch; ``rerun``: which of a rerun's
    selected tests fail."""

    diagnoses: list[Diagnosis] = field(default_factory=list)
    fix_ids: set[str] = field(default_factory=set)
    refused_ids: set[str] = field(default_factory=set)
    initial_exit_code: int = 1
    initial_exit_codes: list[int] = field(default_factory=list)
    triages: list[Triage] = field(default_factory=lambda: [DEPENDENCY_TRIAGE])
    tests: TestReport | None = None
    rerun: Callable[[list[str]], list[str]] | None = None
    builds: list[BuildRequest] = field(default_factory=list)
    triage_calls: list[TriageRequest] = field(default_factory=list)
    diagnose_calls: list[DiagnoseRequest] = field(default_factory=list)
    published: list[PublishRequest] = field(default_factory=list)
    on_build: Callable[[BuildRequest], None] | None = None
    policy: Policy = field(default_factory=Policy)
    reviews: list[ReviewRequest] = field(default_factory=list)

    def all(self) -> list[Callable[..., object]]:
        return [self.prepare_workspace, self.run_build, self.triage, self.diagnose, self.review_patch, self.verify_build, self.publish_fix,
                self.llm_diagnose, self.security_review]

    @activity.defn(name=names.PREPARE_WORKSPACE)
    async def prepare_workspace(self, request: RepairRequest) -> WorkspaceInfo:
        return WorkspaceInfo(repo_path=request.repo_path, commit="c0ffee", branch="main", policy=self.policy)

    @activity.defn(name=names.RUN_BUILD)
    async def run_build(self, request: BuildRequest) -> BuildResult:
        self.builds.append(request)
        if self.on_build:
            self.on_build(request)
        if request.tests is not None:
            assert self.rerun is not None, "a rerun the test did not expect"
            failed = self.rerun(request.tests)
            return build_result(request.label, 1 if failed else 0, tests=report(request.tests, failed))
        if request.patch is None:
            unpatched = [b for b in self.builds if b.patch is None and b.tests is None]
            codes = self.initial_exit_codes or [self.initial_exit_code]
            return build_result(request.label, codes[min(len(unpatched), len(codes)) - 1], tests=self.tests)
        passed = request.patch.id in self.fix_ids
        return build_result(request.label, 0 if passed else 1, signature=f"sig-{request.patch.id}")

    @activity.defn(name=names.TRIAGE)
    async def triage(self, request: TriageRequest) -> Triage:
        self.triage_calls.append(request)
        return self.triages[min(len(self.triage_calls), len(self.triages)) - 1]

    @activity.defn(name=names.DIAGNOSE)
    async def diagnose(self, request: DiagnoseRequest) -> Diagnosis:
        self.diagnose_calls.append(request)
        index = min(len(self.diagnose_calls), len(self.diagnoses)) - 1
        return self.diagnoses[index]

    @activity.defn(name=names.REVIEW_PATCH)
    async def review_patch(self, request: ReviewRequest) -> ReviewVerdict:
        self.reviews.append(request)
        refused = request.patch.id in self.refused_ids
        return ReviewVerdict(patch_id=request.patch.id, accepted=not refused, findings=["tests-touched: tests/x.py"] if refused else [])

    # A worker without an API key: the LLM engine says it is not configured.
    @activity.defn(name=names.LLM_DIAGNOSE)
    async def llm_diagnose(self, request: LLMDiagnoseRequest) -> LLMDiagnosis:
        raise llm_not_configured("the LLM engine is not configured: no API key (fake worker)")

    @activity.defn(name=names.SECURITY_REVIEW)
    async def security_review(self, request: SecurityReviewRequest) -> SecurityReview:
        raise llm_not_configured("the LLM engine is not configured: no API key (fake worker)")

    @activity.defn(name=names.VERIFY_BUILD)
    async def verify_build(self, request: VerifyRequest) -> Verification:
        ok = request.rebuild.exit_code == 0
        return Verification(verified=ok, reason="rebuild passed" if ok else "rebuild still fails")

    @activity.defn(name=names.PUBLISH_FIX)
    async def publish_fix(self, request: PublishRequest) -> PublishResult:
        self.published.append(request)
        return PublishResult(branch=f"greenline/{request.workflow_id}", commit="deadbeef")


def dependency_diagnosis(pin: str, tokens: int = 0) -> Diagnosis:
    return Diagnosis(
        category=Category.DEPENDENCY,
        specialist="python-dependencies",
        summary=f"add {pin}",
        confidence=0.9,
        patch=patch(pin),
        tokens_input=tokens,
        tokens_output=tokens // 10,
        cost_usd=tokens * 1e-6,
    )
