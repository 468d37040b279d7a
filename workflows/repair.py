"""RepairWorkflow: the durable Reason-Act-Verify loop of DESIGN.md.

Reason (build, diagnose), Act (review, rebuild with the patch in a fresh sandbox), Verify
(the rebuild passes and no test vanished), then wait for a human decision and publish the
fix on a new branch. Everything that must survive a crash (attempts, patches tried, budget
spent) is workflow state, rebuilt by replay.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import names
    from models import (
        ApprovalDecision,
        Attempt,
        AuditEvent,
        Budget,
        BuildRequest,
        BuildResult,
        Category,
        Allowance,
        Bisection,
        BisectionProbe,
        ProbeOutcome,
        DiagnoseRequest,
        Diagnosis,
        Engine,
        LLMDiagnoseRequest,
        LLMDiagnosis,
        InvalidAnswer,
        SecurityReview,
        SecurityReviewRequest,
        TriedFix,
        Usage,
        Patch,
        Phase,
        PublishRequest,
        PublishResult,
        RepairRequest,
        RepairResult,
        RepairStatus,
        RerunOutcome,
        ReviewRequest,
        ReviewVerdict,
        Spent,
        Status,
        Flakiness,
        FlakinessVerdict,
        Triage,
        TriageRequest,
        Verification,
        VerifyRequest,
        WorkspaceInfo,
    )
    from activities.errors import LLM_NOT_CONFIGURED
    from workflows import bisection, flaky_triage, phases

# Histories recorded before triage existed replay without it.
TRIAGE_PATCH = "triage-v1"
# Failing tests whose reruns a triage makes at most (the first ones to fail).
MAX_TESTS_RERUN = 5
# Histories recorded before the LLM engine existed replay without it.
LLM_PATCH = "llm-v1"
# Answers that fail validation are fed back this many times before the repair escalates.
MAX_INVALID_ANSWERS = 2
# Histories recorded before the dependency bisection existed replay without it.
BISECT_PATCH = "bisect-v1"
# Probe builds one bisection makes at most (one culprit among 2,048 changes needs 12).
MAX_PROBES = 12
# Categories no patch can fix: never worth a model call.
_NOT_FOR_THE_MODEL = (Category.FLAKY, Category.ORDER_DEPENDENT, Category.INFRA_TRANSIENT)


class _Finished(Exception):
    """Raised inside the loop to leave it with a final status."""

    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@workflow.defn
class RepairWorkflow:
    def __init__(self) -> None:
        self._id = workflow.info().workflow_id
        self._phase = Phase.PREPARING
        self._spent = Spent()
        self._request: RepairRequest | None = None
        self._workspace: WorkspaceInfo | None = None
        # The request's budget with the repository policy's overrides laid over it.
        self._budget: Budget | None = None
        self._attempts: list[Attempt] = []
        self._tried: set[str] = set()
        self._classification: Category | None = None
        self._triage: Triage | None = None
        self._verdicts: list[FlakinessVerdict] = []
        self._flaky_tests: list[str] = []
        self._pending: Patch | None = None
        self._pending_diagnosis: Diagnosis | None = None
        self._decision: ApprovalDecision | None = None
        self._audit: list[AuditEvent] = []
        self._last_verdict: str | None = None
        self._status: Status | None = None
        self._bisection: Bisection | None = None

    # ------------------------------------------------------------------ queries and updates
    @workflow.query
    def status(self) -> RepairStatus:
        assert self._request is not None
        return RepairStatus(
            workflow_id=self._id,
            phase=self._phase,
            attempt=self._spent.attempts,
            spent=self._spent,
            budget=self._budget or self._request.budget,
            classification=self._classification,
            triage=self._triage,
            last_verdict=self._last_verdict,
            pending_patch=self._pending if self._phase == Phase.AWAITING_APPROVAL else None,
            pending_diagnosis=self._pending_diagnosis.summary if self._pending_diagnosis else None,
            status=self._status,
        )

    @workflow.update
    async def decide(self, decision: ApprovalDecision) -> RepairStatus:
        self._take_decision(decision)
        return self.status()

    @decide.validator
    def _validate_decision(self, decision: ApprovalDecision) -> None:
        if self._phase != Phase.AWAITING_APPROVAL or self._pending is None:
            raise ValueError(f"repair {self._id} is not waiting for approval (phase: {self._phase.value})")
        if self._decision is not None:
            raise ValueError(f"repair {self._id} already has a decision")
        if decision.patch_id is not None and decision.patch_id != self._pending.id:
            raise ValueError(
                f"stale approval: patch {decision.patch_id} is not the pending patch {self._pending.id}"
            )
        approvers = self._workspace.policy.approvers if self._workspace else []
        if approvers and decision.approver not in approvers:
            raise ValueError(
                f"{decision.approver} may not decide on repairs of this repository; its .greenline.toml names the approvers: {', '.join(approvers)}"
            )

    @workflow.signal
    def decision(self, decision: ApprovalDecision) -> None:
        """Fire-and-forget form of ``decide`` for chat buttons; invalid decisions are ignored."""
        try:
            self._validate_decision(decision)
        except ValueError as err:
            workflow.logger.warning("ignored decision signal: %s", err)
            return
        self._take_decision(decision)

    def _take_decision(self, decision: ApprovalDecision) -> None:
        self._decision = decision
        verb = "approved" if decision.approve else "rejected"
        self._note(f"{verb} by {decision.approver}" + (f": {decision.reason}" if decision.reason else ""))

    # ------------------------------------------------------------------ the loop
    @workflow.run
    async def run(self, request: RepairRequest) -> RepairResult:
        self._request = request
        started = workflow.now()
        failing: BuildResult | None = None
        fix: Patch | None = None
        branch: str | None = None
        try:
            workspace = await self._prepare(request)
            self._workspace = workspace
            self._budget = workspace.policy.budget.apply(request.budget)
            failing = await self._build(request, workspace, None, "failing build")
            if failing.passed:
                raise _Finished(Status.GREEN, "the build passes; nothing to repair")
            if workflow.patched(TRIAGE_PATCH):
                failing = await self._triage_failure(request, workspace, failing)
            fix = await self._repair_loop(request, workspace, failing)
            await self._await_approval(request, fix)
            branch = await self._publish(request, workspace, fix)
            self._status = Status.REPAIRED
            reason = f"verified fix committed on branch {branch}"
        except _Finished as done:
            self._status, reason = done.status, done.reason
        except ActivityError as err:
            self._status = Status.FAILED
            reason = f"{self._phase.value} failed: {_root_message(err)}"
        self._phase = Phase.DONE
        self._note(f"{self._status.value}: {reason}")
        return RepairResult(
            workflow_id=self._id,
            status=self._status,
            classification=self._classification,
            triage=self._triage,
            test_verdicts=self._verdicts,
            flaky_tests=self._flaky_tests,
            branch=branch,
            patch=fix if self._status in (Status.REPAIRED, Status.REJECTED, Status.ESCALATED) else None,
            attempts=self._attempts,
            spent=self._spent,
            duration_s=(workflow.now() - started).total_seconds(),
            reason=reason,
            failing_build=failing,
            audit=self._audit,
            approver=self._decision.approver if self._decision else None,
            bisection=self._bisection,
        )

    async def _repair_loop(self, request: RepairRequest, workspace: WorkspaceInfo, failing: BuildResult) -> Patch:
        current = failing
        base_patch: Patch | None = None
        while True:
            self._check_budget(request, before="diagnosis")
            self._spent.attempts += 1
            attempt = Attempt(number=self._spent.attempts, diagnosis=await self._diagnose(request, workspace, current, base_patch))
            self._attempts.append(attempt)
            diagnosis = attempt.diagnosis
            if self._triage is None or diagnosis.category != Category.UNKNOWN:
                self._classification = diagnosis.category
            if diagnosis.patch is None:
                raise _Finished(Status.ESCALATED, diagnosis.escalate_reason or f"no fix known: {diagnosis.summary}")
            patch = diagnosis.patch
            if patch.id in self._tried:
                refused = [a.review for a in self._attempts if a.review and not a.review.accepted]
                why = f"; the guardrail refused it: {'; '.join(refused[-1].findings)}" if refused else ""
                raise _Finished(Status.ESCALATED, f"no new patch: {diagnosis.specialist} proposed patch {patch.id} again{why}")
            self._tried.add(patch.id)

            attempt.review = await self._review(request, workspace, diagnosis, patch)
            if not attempt.review.accepted:
                self._last_verdict = "refused by guardrail: " + "; ".join(attempt.review.findings)
                continue

            self._check_budget(request, before="rebuild")
            attempt.rebuild = await self._build(request, workspace, patch, f"rebuild #{attempt.number}")
            self._phase = Phase.VERIFYING
            attempt.verification = await workflow.execute_activity(
                names.VERIFY_BUILD,
                VerifyRequest(failing=failing, rebuild=attempt.rebuild),
                result_type=Verification,
                **phases.VERIFY.kwargs(),
            )
            self._last_verdict = attempt.verification.reason
            self._note(f"attempt {attempt.number}: {attempt.verification.reason}")
            if attempt.verification.verified:
                self._pending_diagnosis = diagnosis
                return patch
            if attempt.rebuild.signature != current.signature:
                # The patch moved the build past its first failure: keep it and build on it.
                base_patch, current = patch, attempt.rebuild

    # ------------------------------------------------------------------ triage
    async def _triage_failure(self, request: RepairRequest, workspace: WorkspaceInfo, failing: BuildResult) -> BuildResult:
        """Classify the failure before any specialist sees it: retry transient ones, rerun
        failing tests to tell flaky and order-dependent from logic. Returns the failing build
        the repair starts from (a retry's, when a retry failed another way)."""
        retries = 0
        while True:
            triage = await self._classify(failing, request)
            if triage.category == Category.INFRA_TRANSIENT:
                if retries >= self._limits(request).max_transient_retries:
                    raise _Finished(Status.ESCALATED, f"the transient failure persists after {retries} retr{'y' if retries == 1 else 'ies'}: {_last(triage.evidence)}")
                retries += 1
                delay = request.retry_delay_s * 2 ** (retries - 1)
                self._note(f"transient failure ({_last(triage.evidence)}): retry {retries} of {self._limits(request).max_transient_retries} in {delay:.0f}s")
                await workflow.sleep(timedelta(seconds=delay))
                self._check_budget(request, before="a retry")
                failing = await self._build(request, workspace, None, f"retry #{retries} after a transient failure")
                if failing.passed:
                    raise _Finished(Status.GREEN, f"the build passed on retry {retries}: the failure was transient ({_last(triage.evidence)})")
                continue
            if triage.rerun_tests:
                triage = await self._rerun_failing_tests(request, workspace, failing, triage)
                if triage.category in (Category.FLAKY, Category.ORDER_DEPENDENT):
                    raise _Finished(Status.FLAKY, triage.summary)
            return failing

    async def _classify(self, failing: BuildResult, request: RepairRequest) -> Triage:
        self._phase = Phase.TRIAGING
        triage = await workflow.execute_activity(
            names.TRIAGE, TriageRequest(build=failing, cmd=request.cmd), result_type=Triage, **phases.TRIAGE.kwargs()
        )
        self._set_triage(triage)
        return triage

    async def _rerun_failing_tests(self, request: RepairRequest, workspace: WorkspaceInfo, failing: BuildResult, triage: Triage) -> Triage:
        executed = failing.tests.executed_ids if failing.tests else []
        verdicts: list[FlakinessVerdict] = []
        for test in triage.failing_tests[:MAX_TESTS_RERUN]:
            before = flaky_triage.tests_before(test, executed)
            outcomes: list[RerunOutcome] = []
            while True:
                left = self._limits(request).max_reruns - self._spent.reruns
                step = flaky_triage.next_step(test, before, outcomes, max_reruns=len(outcomes) + max(0, left))
                if isinstance(step, FlakinessVerdict):
                    break
                self._check_budget(request, before="a rerun")
                self._spent.reruns += 1
                build = await self._build(request, workspace, None, f"rerun {self._spent.reruns}: {step.describe()}", tests=step.selection)
                outcomes.append(RerunOutcome(step=step, result=flaky_triage.result_of(test, build), duration_s=build.duration_s))
            verdicts.append(step)
            self._note(f"{test}: {step.kind.value} (confidence {step.confidence}): {step.reason}")
            if step.kind == Flakiness.DETERMINISTIC:
                break  # the build is broken whatever else is flaky: no need to rerun more
        self._verdicts = verdicts
        self._flaky_tests = [v.test for v in verdicts if v.kind in (Flakiness.FLAKY, Flakiness.ORDER_DEPENDENT)]
        concluded = flaky_triage.from_verdicts(verdicts, triage.failing_tests)
        self._set_triage(concluded)
        return concluded

    def _set_triage(self, triage: Triage) -> None:
        self._triage = triage
        self._classification = triage.category
        self._note(f"triage: {triage.category.value} (confidence {triage.confidence}): {triage.summary}")

    # ------------------------------------------------------------------ phases
    async def _prepare(self, request: RepairRequest) -> WorkspaceInfo:
        self._phase = Phase.PREPARING
        return await workflow.execute_activity(
            names.PREPARE_WORKSPACE, request, result_type=WorkspaceInfo, **phases.PREPARE.kwargs()
        )

    async def _build(
        self, request: RepairRequest, workspace: WorkspaceInfo, patch: Patch | None, label: str, tests: list[str] | None = None,
        constraints: str | None = None,
    ) -> BuildResult:
        if tests is None and constraints is None:
            self._phase = Phase.BUILDING if patch is None else Phase.REBUILDING
        result = await workflow.execute_activity(
            names.RUN_BUILD,
            BuildRequest(
                workflow_id=self._id,
                repo_path=workspace.repo_path,
                subdir=request.subdir,
                commit=workspace.commit,
                cmd=request.cmd,
                sandbox=request.sandbox,
                patch=patch,
                timeout_s=request.build_timeout_s,
                label=label,
                tests=tests,
                constraints=constraints,
            ),
            result_type=BuildResult,
            task_queue=request.sandbox_task_queue,
            **phases.BUILD.kwargs(start_to_close=timedelta(seconds=request.build_timeout_s + 120)),
        )
        self._spent.builds += 1
        self._spent.build_s += result.duration_s
        outcome = "passed" if result.passed else f"failed (exit {result.exit_code})"
        self._note(f"{label} {outcome} in {result.duration_s:.1f}s")
        return result

    async def _diagnose(self, request: RepairRequest, workspace: WorkspaceInfo, build: BuildResult, base: Patch | None) -> Diagnosis:
        """The playbooks first (``rules``, ``auto``), then the model (``llm``; ``auto`` when the
        playbooks have no fix left)."""
        self._phase = Phase.DIAGNOSING
        ask = DiagnoseRequest(
            repo_path=workspace.repo_path,
            subdir=request.subdir,
            commit=workspace.commit,
            cmd=request.cmd,
            engine=request.engine,
            build=build,
            base_patch=base,
            tried_patch_ids=sorted(self._tried),
            known_good_env=request.known_good_env,
        )
        may_use_model = request.engine != Engine.RULES and workflow.patched(LLM_PATCH)
        if may_use_model and request.engine == Engine.LLM:
            diagnosis = await self._ask_model(request, workspace, ask, rules=None)
        else:
            diagnosis = await workflow.execute_activity(names.DIAGNOSE, ask, result_type=Diagnosis, **phases.DIAGNOSE.kwargs())
            self._charge(Usage(input_tokens=diagnosis.tokens_input, output_tokens=diagnosis.tokens_output, usd=diagnosis.cost_usd), "diagnosis")
            self._note(f"diagnosis ({diagnosis.specialist}, {diagnosis.engine.value}): {diagnosis.summary}")
            if diagnosis.patch is None and self._may_bisect(request, build, diagnosis):
                diagnosis = await self._bisect(request, workspace, build, base, ask, diagnosis)
            if may_use_model and diagnosis.patch is None and diagnosis.category not in _NOT_FOR_THE_MODEL:
                diagnosis = await self._ask_model(request, workspace, ask, rules=diagnosis)
        return diagnosis

    # ------------------------------------------------------------------ dependency bisection
    def _may_bisect(self, request: RepairRequest, build: BuildResult, diagnosis: Diagnosis) -> bool:
        return (
            self._bisection is None
            and bool(request.known_good_env)
            and build.environment is not None
            and diagnosis.category not in _NOT_FOR_THE_MODEL
            and workflow.patched(BISECT_PATCH)
        )

    async def _bisect(
        self, request: RepairRequest, workspace: WorkspaceInfo, build: BuildResult, base: Patch | None, ask: DiagnoseRequest, rules: Diagnosis
    ) -> Diagnosis:
        """With the last green build's ``pip freeze``: find which changed distributions break
        the build (probe builds that hold the others back), then pin those back. Returns the
        playbooks' diagnosis, its reason completed, when the bisection finds nothing."""
        changes = bisection.changed(request.known_good_env, build.environment)
        if not changes:
            self._bisection = Bisection(changes=[], reason="every distribution is at its last green version: not dependency drift")
            self._note(f"bisection: {self._bisection.reason}")
            return rules.model_copy(update={"escalate_reason": f"{rules.escalate_reason}; {self._bisection.reason}"})
        self._phase = Phase.BISECTING
        self._note(f"bisection: {len(changes)} distribution(s) changed since the last green build: " + ", ".join(c.describe() for c in changes))
        outcomes: list[ProbeOutcome] = []
        while True:
            step = bisection.next_step(changes, outcomes, max_probes=MAX_PROBES)
            if not isinstance(step, BisectionProbe):
                break
            self._check_budget(request, before="a bisection build")
            probe = await self._build(
                request, workspace, base, f"bisection probe {len(outcomes) + 1}: {len(step.floating)} of {len(changes)} changes",
                constraints=bisection.constraints(changes, step.floating),
            )
            outcomes.append(ProbeOutcome(floating=step.floating, reproduced=bisection.reproduces(probe, build), exit_code=probe.exit_code, duration_s=probe.duration_s))
        self._bisection = step
        self._note(f"bisection: {step.reason}")
        if not step.conclusive:
            return rules.model_copy(update={"escalate_reason": f"{rules.escalate_reason}; bisection against the last green build: {step.reason}"})
        self._phase = Phase.DIAGNOSING
        pinned = await workflow.execute_activity(
            names.DIAGNOSE, ask.model_copy(update={"bisection": step}), result_type=Diagnosis, **phases.DIAGNOSE.kwargs()
        )
        self._note(f"diagnosis ({pinned.specialist}, {pinned.engine.value}): {pinned.summary}")
        return pinned

    async def _ask_model(self, request: RepairRequest, workspace: WorkspaceInfo, ask: DiagnoseRequest, rules: Diagnosis | None) -> Diagnosis:
        """One diagnosis from the LLM engine: a call per activity, each charged as soon as it
        returns; an answer that fails validation goes back with the error, a few times. With
        ``rules`` (engine ``auto``), a model that is not configured leaves the playbooks' answer."""
        feedback: list[InvalidAnswer] = []
        while True:
            self._check_budget(request, before="a model call")
            try:
                answer = await workflow.execute_activity(
                    names.LLM_DIAGNOSE,
                    LLMDiagnoseRequest(
                        diagnose=ask,
                        allowance=self._allowance(request),
                        tried=self._tried_fixes(),
                        rules_said=rules.escalate_reason if rules else None,
                        allow_source_changes=workspace.policy.allow_source_changes,
                        feedback=feedback,
                        timeout_s=request.llm_timeout_s,
                    ),
                    result_type=LLMDiagnosis,
                    **phases.LLM.kwargs(start_to_close=timedelta(seconds=request.llm_timeout_s + 30)),
                )
            except ActivityError as err:
                if rules is not None and _error_type(err) == LLM_NOT_CONFIGURED:
                    return rules
                raise _Finished(Status.ESCALATED, f"the LLM engine failed: {_root_message(err)}") from None
            self._charge(answer.usage, f"model call ({answer.model}, prompt {answer.prompt})")
            if answer.not_started is not None:
                raise _Finished(Status.ESCALATED, f"budget exhausted before a model call: {answer.not_started}")
            if answer.diagnosis is not None:
                self._note(f"diagnosis ({answer.diagnosis.specialist}, llm): {answer.diagnosis.summary}")
                return answer.diagnosis
            assert answer.invalid is not None
            feedback.append(answer.invalid)
            self._note(f"the model's answer was not usable: {answer.invalid.error}")
            if len(feedback) > MAX_INVALID_ANSWERS:
                raise _Finished(Status.ESCALATED, f"the model's answers failed validation {len(feedback)} times; last: {answer.invalid.error}")

    def _allowance(self, request: RepairRequest) -> Allowance:
        budget, spent = self._limits(request), self._spent
        tokens = max(0, budget.max_tokens - spent.tokens_input - spent.tokens_output)
        return Allowance(tokens=tokens, usd=max(0.0, budget.max_usd - spent.usd))

    def _charge(self, usage: Usage, what: str) -> None:
        self._spent.tokens_input += usage.total_input
        self._spent.tokens_output += usage.output_tokens
        self._spent.usd += usage.usd
        if usage.total_input or usage.output_tokens:
            self._note(f"{what}: {usage.total_input} input tokens ({usage.cache_read_tokens} from cache), {usage.output_tokens} output, ${usage.usd:.4f}")

    def _tried_fixes(self) -> list[TriedFix]:
        tried = []
        for attempt in self._attempts:
            if attempt.diagnosis.patch is None:
                continue
            if attempt.review is not None and not attempt.review.accepted:
                outcome = "refused by the reviewer: " + "; ".join(attempt.review.findings)
            elif attempt.verification is not None:
                outcome = attempt.verification.reason + (f"\n{attempt.rebuild.excerpt}" if attempt.rebuild and not attempt.rebuild.passed else "")
            else:
                outcome = "not built"
            tried.append(TriedFix(summary=attempt.diagnosis.summary, diff=attempt.diagnosis.patch.diff, outcome=outcome))
        return tried

    async def _review(self, request: RepairRequest, workspace: WorkspaceInfo, diagnosis: Diagnosis, patch: Patch) -> ReviewVerdict:
        self._phase = Phase.REVIEWING
        verdict = await workflow.execute_activity(
            names.REVIEW_PATCH,
            ReviewRequest(repo_path=workspace.repo_path, commit=workspace.commit, patch=patch, policy=workspace.policy),
            result_type=ReviewVerdict,
            **phases.REVIEW.kwargs(),
        )
        self._note(f"guardrail {'accepted' if verdict.accepted else 'refused'} patch {patch.id}" + (f": {'; '.join(verdict.findings)}" if verdict.findings else ""))
        wanted = workspace.policy.security_review == "all" or (workspace.policy.security_review == "llm-patches" and diagnosis.engine == Engine.LLM)
        if verdict.accepted and wanted and request.engine != Engine.RULES and workflow.patched(LLM_PATCH):
            second = await self._security_review(request, diagnosis, patch)
            if second is not None and not second.accepted:
                verdict = verdict.model_copy(update={"accepted": False, "findings": [f"security reviewer: {c}" for c in second.concerns] or ["security reviewer: refused"]})
        return verdict

    async def _security_review(self, request: RepairRequest, diagnosis: Diagnosis, patch: Patch) -> SecurityReview | None:
        """The LLM engine's second opinion; ``None`` when it cannot run (not configured, budget).
        A reviewer that fails refuses nothing, but the patch still needs a human's approval."""
        self._check_budget(request, before="the security review")
        try:
            review = await workflow.execute_activity(
                names.SECURITY_REVIEW,
                SecurityReviewRequest(patch=patch, summary=diagnosis.summary, allowance=self._allowance(request), timeout_s=request.llm_timeout_s),
                result_type=SecurityReview,
                **phases.LLM.kwargs(start_to_close=timedelta(seconds=request.llm_timeout_s + 30)),
            )
        except ActivityError as err:
            if _error_type(err) != LLM_NOT_CONFIGURED:
                self._note(f"security review unavailable: {_root_message(err)}")
            return None
        self._charge(review.usage, f"security review ({review.model})")
        if review.not_started is not None:
            self._note(f"security review skipped: {review.not_started}")
            return None
        self._note(f"security reviewer {'accepted' if review.accepted else 'refused'} patch {patch.id}" + (f": {'; '.join(review.concerns)}" if review.concerns else ""))
        return review

    async def _await_approval(self, request: RepairRequest, fix: Patch) -> None:
        self._pending = fix
        self._phase = Phase.AWAITING_APPROVAL
        category = self._pending_diagnosis.category if self._pending_diagnosis else None
        by_policy = self._workspace is not None and category in self._workspace.policy.auto_approve_categories
        if request.auto_approve or by_policy:
            approver = "auto-approve" if request.auto_approve else f"policy: auto_approve_categories has {category}"
            self._take_decision(ApprovalDecision(approve=True, patch_id=fix.id, approver=approver))
        else:
            self._note(f"waiting up to {request.approval_timeout_s:.0f}s for approval of patch {fix.id}")
            try:
                await workflow.wait_condition(
                    lambda: self._decision is not None, timeout=timedelta(seconds=request.approval_timeout_s)
                )
            except asyncio.TimeoutError:
                raise _Finished(
                    Status.ESCALATED,
                    f"verified fix {fix.id} got no approval decision within {request.approval_timeout_s:.0f}s",
                ) from None
        assert self._decision is not None
        if not self._decision.approve:
            raise _Finished(Status.REJECTED, f"rejected by {self._decision.approver}: {self._decision.reason or 'no reason given'}")

    async def _publish(self, request: RepairRequest, workspace: WorkspaceInfo, fix: Patch) -> str:
        self._phase = Phase.PUBLISHING
        diagnosis = self._pending_diagnosis
        summary = diagnosis.summary if diagnosis else "verified fix"
        result = await workflow.execute_activity(
            names.PUBLISH_FIX,
            PublishRequest(
                workflow_id=self._id,
                repo_path=workspace.repo_path,
                commit=workspace.commit,
                patch=fix,
                message=f"greenline: {summary}\n\nRepair {self._id}, patch {fix.id}, approved by "
                f"{self._decision.approver if self._decision else 'unknown'}.\nBuild step: {request.cmd}\n",
            ),
            result_type=PublishResult,
            **phases.PUBLISH.kwargs(),
        )
        return result.branch

    # ------------------------------------------------------------------ budget and audit
    def _check_budget(self, request: RepairRequest, *, before: str) -> None:
        budget, spent = self._limits(request), self._spent
        elapsed = (workflow.now() - workflow.info().start_time).total_seconds()
        reason = None
        if before == "diagnosis" and spent.attempts >= budget.max_attempts:
            reason = f"not fixed within {budget.max_attempts} attempt(s)"
        elif elapsed >= budget.max_wall_s:
            reason = f"wall-time budget of {budget.max_wall_s:.0f}s used up ({elapsed:.0f}s)"
        elif spent.tokens_input + spent.tokens_output >= budget.max_tokens > 0:
            reason = f"token budget of {budget.max_tokens} used up"
        elif budget.max_usd > 0 and spent.usd >= budget.max_usd:
            reason = f"cost budget of ${budget.max_usd:.2f} used up"
        if reason:
            last = f"; last verdict: {self._last_verdict}" if self._last_verdict else ""
            raise _Finished(Status.ESCALATED, f"budget exhausted before {before}: {reason}{last}")

    def _limits(self, request: RepairRequest) -> Budget:
        return self._budget or request.budget

    def _note(self, message: str) -> None:
        workflow.logger.info(message)
        self._audit.append(AuditEvent(at=workflow.now().isoformat(), phase=self._phase, message=message))


def _last(evidence: list[str]) -> str:
    return evidence[-1][:200] if evidence else "no error line"


def _error_type(err: BaseException) -> str | None:
    while err.__cause__ is not None:
        err = err.__cause__
    return err.type if isinstance(err, ApplicationError) else None


def _root_message(err: BaseException) -> str:
    while err.__cause__ is not None:
        err = err.__cause__
    if isinstance(err, ApplicationError):
        return err.message
    return str(err)
