"""Shared helpers of the integration tests: example repos as real git repositories, and
repairs run on the real dev server by real workers."""

from __future__ import annotations

import shutil
import uuid
from contextlib import AsyncExitStack
from pathlib import Path

import docker
from temporalio.testing import WorkflowEnvironment

from greenline.settings import Settings
from models import RepairRequest, RepairResult
from tests.git_repos import git
from worker import build_workers
from workflows import RepairWorkflow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# The exact build steps the README gives for each example.
EXAMPLE_COMMANDS = {
    "missing-dependency": "pip install -q -r requirements.txt && python -m pytest -q",
    "missing-env-var": "set -a && . ./ci.env && set +a && pip install -q -r requirements.txt && python -m pytest -q",
    "missing-build-tools": "pip install -q -r requirements.txt && pyflakes shipping && python -m pytest -q --cov=shipping",
    "dependency-then-env": "pip install -q -r requirements.txt && touch .env && set -a && . ./.env && set +a && python -m pytest -q",
    "dockerfile-moved-file": "docker build -q -t greenline-example-moved-file . && docker run --rm greenline-example-moved-file",
    "dockerfile-pep668": "docker build -q -t greenline-example-pep668 . && docker run --rm greenline-example-pep668",
    "dockerfile-entrypoint": "docker build -q -t greenline-example-entrypoint . && docker run --rm greenline-example-entrypoint",
    # With --known-good-env last-green-freeze.txt (the last green build's pip freeze).
    "dependency-bisection": "pip install -q -r requirements.txt && python -m pytest -q",
    "upstream-breaking-release": "pip install -q -r requirements.txt && python -m pytest -q",
    "resolver-conflict": "pip install -q -r requirements.txt && python -m pytest -q",
}


def example_repo(name: str, dest: Path) -> Path:
    """A copy of ``examples/NAME`` as a git repository of its own, on branch ``main``."""
    repo = dest / name
    shutil.copytree(EXAMPLES / name, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "broken build")
    return repo


def settings_for(tmp_path: Path) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    return Settings(state_dir=tmp_path / "state", task_queue=f"control-{suffix}", sandbox_task_queue=f"sandbox-{suffix}")


async def repair_in_process(env: WorkflowEnvironment, settings: Settings, request: RepairRequest) -> RepairResult:
    request = request.model_copy(update={"sandbox_task_queue": settings.sandbox_task_queue})
    async with AsyncExitStack() as stack:
        for worker in build_workers(env.client, settings, max_cached_workflows=0):
            await stack.enter_async_context(worker)
        handle = await env.client.start_workflow(
            RepairWorkflow.run, request, id=f"repair-{uuid.uuid4().hex[:8]}", task_queue=settings.task_queue
        )
        return await handle.result()


def greenline_containers(workflow_id: str | None = None) -> list[str]:
    """Ids of Greenline build containers (of one repair when ``workflow_id`` is given).

    ``sparse`` lists without inspecting each container, so one being removed meanwhile is no error.
    """
    label = "greenline.build" if workflow_id is None else f"greenline.workflow={workflow_id}"
    client = docker.from_env()
    try:
        return [c.id for c in client.containers.list(all=True, sparse=True, filters={"label": label})]
    finally:
        client.close()


def processes_with(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment holds ``marker`` (e.g. a build id)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"State:\tZ" not in (entry / "status").read_bytes() and marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
