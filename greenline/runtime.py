"""What the CLI runs: find the server (embedded or ``TEMPORAL_ADDRESS``), serve workers
in-process when embedded, start or attach to a repair, follow it, ask for approval."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities import git
from activities.sandbox.docker import remove_workflow_containers
from greenline.build_step import docker_call
from greenline.client import connect
from greenline.devserver import DevServer
from greenline.errors import BadInput, GreenlineError, SandboxUnavailable, ServerUnavailable
from greenline.settings import Settings
from models import ApprovalDecision, Phase, RepairRequest, RepairResult, RepairStatus, SandboxKind
from workflows import RepairWorkflow

Reporter = Callable[[str], None]
# Shows the diagnosis and diff, returns the user's yes/no. ``None``: not interactive.
AskApproval = Callable[[str, str], bool]


class Interrupted(GreenlineError):
    pass


def locate_repository(path: Path) -> tuple[Path, str]:
    """The repository root holding ``path`` and the folder of the build inside it."""
    if not path.exists():
        raise BadInput(f"{path} does not exist; give the path of a git repository")
    if not path.is_dir():
        raise BadInput(f"{path} is not a folder; give the path of a git repository")
    try:
        root = git.toplevel(path)
    except git.GitError:
        raise BadInput(f"{path} is not inside a git repository; run `git init && git add -A && git commit` there first") from None
    try:
        git.head(root)
    except git.GitError:
        raise BadInput(f"{root} has no commit yet: Greenline repairs a committed HEAD; commit your work first") from None
    subdir = path.resolve().relative_to(root.resolve()).as_posix()
    return root, "" if subdir == "." else subdir


def resolve_sandbox(kind: SandboxKind, cmd: str, workdir: Path | None = None, settings: Settings | None = None) -> tuple[SandboxKind, str | None]:
    """The sandbox the build runs in and, when ``auto`` did not pick docker, why not. ``workdir``:
    where the build step runs, whose scripts and Makefile it may run docker from."""
    settings = settings or Settings()
    if kind == SandboxKind.LOCAL:
        return kind, None
    if (call := docker_call(cmd, workdir)) is not None:
        if kind == SandboxKind.DOCKER:
            raise SandboxUnavailable(
                f"--sandbox docker: the build step runs docker ({call}), which the docker sandbox cannot (no daemon inside it, "
                "and lending it the host's daemon would hand the build the host); use --sandbox local or auto"
            )
        return SandboxKind.LOCAL, f"the build step runs docker ({call}), which the docker sandbox cannot"
    problem = _docker_problem(settings.sandbox_image)
    if kind == SandboxKind.DOCKER and problem:
        raise SandboxUnavailable(f"--sandbox docker: {problem}")
    return (SandboxKind.LOCAL, problem) if problem else (SandboxKind.DOCKER, None)


def check_llm_engine(settings: Settings | None = None) -> None:
    """Fail fast when ``--engine llm`` cannot run here. With ``TEMPORAL_ADDRESS`` the cluster's
    workers hold the key, so the check is theirs."""
    from worker import llm_config

    settings = settings or Settings()
    if settings.temporal_address:
        return
    problem = llm_config(settings).problem
    if problem:
        raise BadInput(f"--engine llm: the LLM engine is not configured: {problem}")


def _docker_problem(image: str) -> str | None:
    try:
        client = docker.from_env(timeout=5)
        client.ping()
    except docker.errors.DockerException as err:
        return f"the docker daemon does not answer ({type(err).__name__}); start it with `sudo infra/ensure-docker.sh`, or use --sandbox local"
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return f"the sandbox image {image} is missing; build it offline with `sudo infra/build-sandbox-image.sh`, or use --sandbox local"
    except docker.errors.DockerException as err:
        return f"the docker daemon failed to answer ({err})"
    finally:
        client.close()
    return None


@dataclass
class Connection:
    client: Client
    settings: Settings
    server: DevServer | None

    def ui_link(self, workflow_id: str) -> str | None:
        if self.server is None:
            return None
        return f"{self.server.ui_url}/namespaces/{self.settings.temporal_namespace}/workflows/{workflow_id}"


@contextlib.asynccontextmanager
async def connection(*, start_embedded: bool) -> AsyncIterator[Connection]:
    """A client for ``TEMPORAL_ADDRESS``, or for the embedded dev server (started if needed
    and ``start_embedded``; released on exit: the last user stops it)."""
    settings = Settings()
    if settings.temporal_address:
        yield Connection(await _connect_with_deadline(settings.temporal_address, settings), settings, None)
        return
    server = DevServer(settings.state_dir, settings.dev_server_port, settings.dev_server_ui_port)
    if not start_embedded and not server.running():
        raise ServerUnavailable(
            "no Greenline server is running: the repair's `greenline repair` has ended (resume it with `greenline resume ID`), "
            "or set TEMPORAL_ADDRESS to your Temporal cluster"
        )
    await asyncio.to_thread(server.ensure)
    try:
        yield Connection(await _connect_with_deadline(server.address, settings), settings, server)
    finally:
        await asyncio.to_thread(server.release)


async def _connect_with_deadline(address: str, settings: Settings) -> Client:
    try:
        return await asyncio.wait_for(connect(address, settings.temporal_namespace), timeout=15)
    except TimeoutError:
        raise ServerUnavailable(f"the Temporal server at {address} did not answer within 15s; check TEMPORAL_ADDRESS") from None


async def run_repair(request: RepairRequest | None, workflow_id: str, report: Reporter, ask: AskApproval | None) -> RepairResult:
    """Start (or, with ``request=None``, attach to) a repair and follow it to its result."""

    async with connection(start_embedded=True) as conn, _embedded_workers(conn, workflow_id):
        handle = await _start_or_attach(conn, request, workflow_id)
        report(f"repair {workflow_id} {'started' if request else 'resumed'}" + (f"; Temporal Web UI: {conn.ui_link(workflow_id)}" if conn.ui_link(workflow_id) else ""))
        if conn.server is None:
            for queue in (conn.settings.task_queue, conn.settings.sandbox_task_queue):
                if not await _has_pollers(conn, queue):
                    report(f"  warning: no worker polls task queue {queue} on {conn.settings.temporal_address}; "
                           f"start one with `TEMPORAL_ADDRESS={conn.settings.temporal_address} python worker.py`")
        return await _follow(handle, report, ask, workflow_id)


@contextlib.asynccontextmanager
async def _embedded_workers(conn: Connection, workflow_id: str) -> AsyncIterator[None]:
    """Run this process's workers beside the embedded server; after they stop, remove any build
    container of ``workflow_id`` left behind (one created the instant before an interrupt)."""
    from worker import build_workers

    if conn.server is None:
        yield
        return
    try:
        async with contextlib.AsyncExitStack() as stack:
            for worker in build_workers(conn.client, conn.settings):
                await stack.enter_async_context(worker)
            yield
    finally:
        await asyncio.to_thread(remove_workflow_containers, workflow_id)


async def _has_pollers(conn: Connection, queue: str) -> bool:
    request = DescribeTaskQueueRequest(
        namespace=conn.settings.temporal_namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    )
    try:
        response = await conn.client.workflow_service.describe_task_queue(request)
    except RPCError:
        return True  # cannot tell: do not cry wolf
    return bool(response.pollers)


async def _start_or_attach(conn: Connection, request: RepairRequest | None, workflow_id: str) -> WorkflowHandle[RepairWorkflow, RepairResult]:
    if request is None:
        handle = conn.client.get_workflow_handle_for(RepairWorkflow.run, workflow_id)
        try:
            await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise BadInput(f"no repair {workflow_id} on this server") from None
            raise
        return handle
    request = request.model_copy(update={"sandbox_task_queue": conn.settings.sandbox_task_queue})
    try:
        return await conn.client.start_workflow(
            RepairWorkflow.run,
            request,
            id=workflow_id,
            task_queue=conn.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        raise BadInput(f"a repair with id {workflow_id} already exists; choose another --id or `greenline resume {workflow_id}`") from None


async def _follow(handle: WorkflowHandle[RepairWorkflow, RepairResult], report: Reporter, ask: AskApproval | None, workflow_id: str) -> RepairResult:
    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, interrupted.set)
    result_task = asyncio.ensure_future(handle.result())
    stop_task = asyncio.ensure_future(interrupted.wait())
    last_phase: tuple[Phase, int] | None = None
    asked = False
    told_how = False
    try:
        while True:
            done, _ = await asyncio.wait({result_task, stop_task}, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
            if result_task in done:
                try:
                    return result_task.result()
                except WorkflowFailureError as err:
                    raise GreenlineError(f"repair {workflow_id} failed: {err.cause or err}") from None
            if stop_task in done:
                raise Interrupted(
                    f"interrupted: repair {workflow_id} is kept (its sandboxes were removed). "
                    f"Resume it with `greenline resume {workflow_id}` or stop it with `greenline cancel {workflow_id}`"
                )
            try:
                state = await handle.query(RepairWorkflow.status)
            except RPCError:
                continue
            if (state.phase, state.attempt) != last_phase:
                last_phase = (state.phase, state.attempt)
                verdict = f" (last verdict: {state.last_verdict})" if state.last_verdict and state.phase == Phase.DIAGNOSING else ""
                report(f"  {state.phase.value} · attempt {state.attempt}/{state.budget.max_attempts} · builds {state.spent.builds}{verdict}")
            if state.phase == Phase.AWAITING_APPROVAL and state.pending_patch is not None and not asked:
                if ask is None:
                    if not told_how:
                        report(f"  waiting for approval: `greenline approve {workflow_id}` or `greenline reject {workflow_id} --reason ...`")
                        told_how = True
                    continue
                asked = True
                answer_task = asyncio.ensure_future(asyncio.to_thread(ask, state.pending_diagnosis or "", state.pending_patch.diff))
                done, _ = await asyncio.wait({answer_task, result_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
                if answer_task in done:
                    decision = ApprovalDecision(
                        approve=answer_task.result(), patch_id=state.pending_patch.id, approver="cli",
                        reason="" if answer_task.result() else "declined at the prompt",
                    )
                    try:
                        await handle.execute_update(RepairWorkflow.decide, decision)
                    except WorkflowUpdateFailedError as err:
                        report(f"  decision not taken: {err.cause or err}")
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        for task in (result_task, stop_task):
            task.cancel()


async def query_status(workflow_id: str) -> RepairStatus:
    async with connection(start_embedded=False) as conn:
        handle = conn.client.get_workflow_handle_for(RepairWorkflow.run, workflow_id)
        try:
            return await handle.query(RepairWorkflow.status)
        except RPCError as err:
            raise BadInput(f"cannot read the status of {workflow_id}: {err.message}") from None


async def decide(workflow_id: str, decision: ApprovalDecision) -> RepairStatus:
    async with connection(start_embedded=False) as conn:
        handle = conn.client.get_workflow_handle_for(RepairWorkflow.run, workflow_id)
        try:
            return await handle.execute_update(RepairWorkflow.decide, decision)
        except WorkflowUpdateFailedError as err:
            raise BadInput(f"{workflow_id}: {err.cause.message if err.cause and hasattr(err.cause, 'message') else err}") from None
        except RPCError as err:
            raise BadInput(f"cannot reach repair {workflow_id}: {err.message}") from None


async def cancel(workflow_id: str) -> None:
    """Cancel a repair and, when embedded, serve it until the cancellation has run."""
    async with connection(start_embedded=True) as conn, _embedded_workers(conn, workflow_id):
        handle = conn.client.get_workflow_handle_for(RepairWorkflow.run, workflow_id)
        try:
            await handle.cancel()
        except RPCError as err:
            raise BadInput(f"cannot cancel {workflow_id}: {err.message}") from None
        if conn.server is not None:
            with contextlib.suppress(WorkflowFailureError, asyncio.TimeoutError):
                await asyncio.wait_for(handle.result(), timeout=60)


async def serve_foreground(report: Reporter) -> None:
    async with connection(start_embedded=True) as conn:
        assert conn.server is not None, "greenline server runs the embedded dev server; unset TEMPORAL_ADDRESS"
        report(f"Temporal dev server on {conn.server.address}; Web UI: {conn.server.ui_url}. Ctrl-C stops it.")
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
        await stop.wait()
