"""The ``greenline`` command.

    greenline repair PATH --cmd "BUILD STEP"   repair the git repository at PATH
    greenline approve ID / reject ID --reason   decide on a verified fix from another terminal
    greenline status ID / resume ID / cancel ID
    greenline server                            run the embedded Temporal dev server in the foreground

Exit codes: 0 green/repaired/flaky, 3 escalated/rejected, 1 errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.syntax import Syntax

from greenline import known_good, runtime
from activities.git import GitError
from greenline.errors import BadInput, GreenlineError
from models import ApprovalDecision, Budget, Engine, RepairRequest, RepairResult, SandboxKind, Status

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Greenline: CI/CD pipelines that repair themselves. Exit codes: 0 green/repaired/flaky, 3 escalated/rejected, 1 errors.", pretty_exceptions_enable=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_CODES = {
    Status.GREEN: 0,
    Status.REPAIRED: 0,
    Status.FLAKY: 0,
    Status.ESCALATED: 3,
    Status.REJECTED: 3,
    Status.FAILED: 1,
}


class SandboxChoice(StrEnum):
    AUTO = "auto"
    DOCKER = "docker"
    LOCAL = "local"


def _finish(code: int) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio's Rust bridge can abort while Python finalises (sdk-python#300): leave now.
    os._exit(code)


def _fail(message: str, as_json: bool, workflow_id: str | None = None) -> NoReturn:
    if as_json:
        print(json.dumps(_error_contract(message, workflow_id)))
    err.print(f"[red]error:[/red] {message}")
    _finish(1)


def _error_contract(message: str, workflow_id: str | None) -> dict[str, object]:
    # The same keys as a finished repair's, so a script reads one shape whatever happened.
    return {**RepairResult(workflow_id="", status=Status.FAILED, reason=message).to_json_contract(), "workflow_id": workflow_id}


@app.command()
def repair(
    path: Annotated[Path, typer.Argument(help="the git repository (or a folder of it) whose build fails")],
    cmd: Annotated[str, typer.Option("--cmd", help="the build step, run with bash in the repository folder")] = "",
    sandbox: Annotated[SandboxChoice, typer.Option(help="where builds run: docker, local, or auto (docker when the daemon answers)")] = SandboxChoice.AUTO,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="approve a verified fix without asking (CI, benchmarks)")] = False,
    known_good_env: Annotated[Path | None, typer.Option("--known-good-env", help="a `pip freeze` of the last green build")] = None,
    engine: Annotated[Engine, typer.Option(help="rules (offline playbooks), llm, or auto")] = Engine.AUTO,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, max=50)] = 3,
    max_minutes: Annotated[float, typer.Option("--max-minutes", help="wall-time budget of the whole repair")] = 60.0,
    approval_timeout: Annotated[float, typer.Option("--approval-timeout", help="seconds to wait for a decision before escalating")] = 24 * 3600.0,
    build_timeout: Annotated[int, typer.Option("--build-timeout", help="seconds one build may take")] = 1800,
    workflow_id: Annotated[str | None, typer.Option("--id", help="workflow id (default: a new repair-XXXXXXXX)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print exactly one JSON object on stdout")] = False,
) -> None:
    """Repair the failing build of the git repository at PATH; a verified fix lands on branch greenline/ID."""
    try:
        request = _repair_request(path, cmd, sandbox, auto_approve, known_good_env, engine, max_attempts, max_minutes, approval_timeout, build_timeout)
        if request.known_good_env is None:
            recorded = known_good.load(Path(request.repo_path), request.subdir, request.cmd)
            if recorded is not None:
                request.known_good_env = recorded.freeze
                err.print(f"last green environment of this build step: recorded {recorded.recorded_at:%Y-%m-%d %H:%M} UTC ({recorded.path})")
        workflow_id = workflow_id or f"repair-{uuid.uuid4().hex[:8]}"
        result = asyncio.run(runtime.run_repair(request, workflow_id, _report_progress, _ask_approval if sys.stdin.isatty() and not as_json else None))
    except GreenlineError as error:
        _fail(str(error), as_json, workflow_id)
    _remember_green(request, result)
    _report(result, as_json)


@app.command()
def resume(
    workflow_id: Annotated[str, typer.Argument(help="the repair to attach to")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Serve and wait for an interrupted repair (the embedded server keeps it on disk)."""
    try:
        result = asyncio.run(runtime.run_repair(None, workflow_id, _report_progress, _ask_approval if sys.stdin.isatty() and not as_json else None))
    except GreenlineError as error:
        _fail(str(error), as_json, workflow_id)
    _report(result, as_json)


@app.command()
def approve(
    workflow_id: Annotated[str, typer.Argument(help="the repair waiting for approval")],
    approver: Annotated[str, typer.Option(help="who approves")] = os.environ.get("USER", "cli"),
    patch_id: Annotated[str | None, typer.Option("--patch", help="approve only if this is still the pending patch")] = None,
) -> None:
    """Approve the verified fix of a repair: it is committed on branch greenline/ID."""
    _decide(workflow_id, ApprovalDecision(approve=True, approver=approver, patch_id=patch_id))


@app.command()
def reject(
    workflow_id: Annotated[str, typer.Argument(help="the repair waiting for approval")],
    reason: Annotated[str, typer.Option(help="why the fix is rejected (kept in the audit trail)")] = "",
    approver: Annotated[str, typer.Option(help="who rejects")] = os.environ.get("USER", "cli"),
) -> None:
    """Reject the verified fix of a repair: nothing is committed."""
    if not reason.strip():
        _fail("give a reason: greenline reject ID --reason '...'", False)
    _decide(workflow_id, ApprovalDecision(approve=False, approver=approver, reason=reason))


@app.command()
def status(
    workflow_id: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Phase, attempt, budget spent and last verdict of a repair."""
    try:
        state = asyncio.run(runtime.query_status(workflow_id))
    except GreenlineError as error:
        _fail(str(error), as_json, workflow_id)
    if as_json:
        print(state.model_dump_json(exclude={"pending_patch"}))
    else:
        err.print(f"{workflow_id}: phase {state.phase.value}, attempt {state.attempt}/{state.budget.max_attempts}, "
                  f"builds {state.spent.builds}, tokens {state.spent.tokens_input + state.spent.tokens_output}, "
                  f"${state.spent.usd:.4f}; last verdict: {state.last_verdict or '-'}")
    _finish(0)


@app.command()
def cancel(workflow_id: Annotated[str, typer.Argument()]) -> None:
    """Cancel a repair; its sandboxes are removed and nothing is published."""
    try:
        asyncio.run(runtime.cancel(workflow_id))
    except GreenlineError as error:
        _fail(str(error), False, workflow_id)
    err.print(f"cancelled {workflow_id}")
    _finish(0)


@app.command()
def server() -> None:
    """Run the embedded Temporal dev server (and Web UI) in the foreground until Ctrl-C."""
    try:
        asyncio.run(runtime.serve_foreground(lambda line: err.print(line)))
    except GreenlineError as error:
        _fail(str(error), False)
    _finish(0)


# ---------------------------------------------------------------------------- helpers
def _repair_request(path: Path, cmd: str, sandbox: SandboxChoice, auto_approve: bool, known_good_env: Path | None,
                    engine: Engine, max_attempts: int, max_minutes: float, approval_timeout: float, build_timeout: int) -> RepairRequest:
    if not cmd.strip():
        raise BadInput('--cmd is empty: give the failing build step, e.g. --cmd "pip install -r requirements.txt && pytest"')
    if engine == Engine.LLM:
        runtime.check_llm_engine()
    root, subdir = runtime.locate_repository(path)
    frozen = None
    if known_good_env is not None:
        if not known_good_env.is_file():
            raise BadInput(f"--known-good-env {known_good_env} does not exist; give the `pip freeze` output of the last green build")
        frozen = known_good_env.read_text()
    if approval_timeout <= 0 or build_timeout <= 0 or max_minutes <= 0:
        raise BadInput("--approval-timeout, --build-timeout and --max-minutes must be positive")
    kind, why_local = runtime.resolve_sandbox(SandboxKind(sandbox.value), cmd, root / subdir)
    if why_local:
        err.print(f"sandbox: local ({why_local})")
    return RepairRequest(
        repo_path=str(root), subdir=subdir, cmd=cmd, sandbox=kind,
        engine=engine, budget=Budget(max_attempts=max_attempts, max_wall_s=max_minutes * 60), auto_approve=auto_approve,
        approval_timeout_s=approval_timeout, build_timeout_s=build_timeout, known_good_env=frozen,
    )


def _remember_green(request: RepairRequest, result: RepairResult) -> None:
    """A build that passed as it is: its environment is the next repair's last green one."""
    build = result.failing_build
    if result.status == Status.GREEN and build is not None and build.passed and build.environment:
        try:
            known_good.record(Path(request.repo_path), request.subdir, request.cmd, build.environment)
        except (OSError, GitError) as error:
            err.print(f"[yellow]could not record the green build's environment: {error}[/yellow]")


def _report_progress(line: str) -> None:
    err.print(line)


def _ask_approval(summary: str, diff: str) -> bool:
    err.print(f"\n[bold]Verified fix[/bold]: {summary}")
    err.print(Syntax(diff, "diff", theme="ansi_dark", background_color="default"))
    return typer.confirm("Commit this fix on a new branch?", default=False, err=True)


def _decide(workflow_id: str, decision: ApprovalDecision) -> None:
    try:
        state = asyncio.run(runtime.decide(workflow_id, decision))
    except GreenlineError as error:
        _fail(str(error), False, workflow_id)
    err.print(f"{'approved' if decision.approve else 'rejected'} {workflow_id} (phase now: {state.phase.value})")
    _finish(0)


def _report(result: RepairResult, as_json: bool) -> NoReturn:
    if as_json:
        print(json.dumps(result.to_json_contract()))
    else:
        colour = {0: "green", 3: "yellow", 1: "red"}[EXIT_CODES[result.status]]
        err.print(f"\n[bold {colour}]{result.status.value}[/bold {colour}]: {result.reason}")
        if result.classification:
            err.print(f"classification: {result.classification.value}")
        last_build = next((a.rebuild for a in reversed(result.attempts) if a.rebuild), result.failing_build)
        if result.status in (Status.ESCALATED, Status.FAILED) and last_build and not last_build.passed:
            err.print(f"[dim]log excerpt of the {last_build.label} (full log: {last_build.log.uri}):[/dim]")
            err.print(last_build.excerpt[-2000:], markup=False)
        if result.patch and result.status == Status.REPAIRED:
            err.print(Syntax(result.patch.diff, "diff", theme="ansi_dark", background_color="default"))
        err.print(f"attempts {result.spent.attempts}, builds {result.spent.builds}, {result.duration_s:.1f}s, "
                  f"tokens {result.spent.tokens_input}+{result.spent.tokens_output}, ${result.spent.usd:.4f}")
        if result.branch:
            err.print(f"branch: {result.branch}  (review it with: git diff HEAD...{result.branch})")
    _finish(EXIT_CODES[result.status])


def main() -> None:
    try:
        app()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        _finish(code)

