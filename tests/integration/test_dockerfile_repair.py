"""Dockerfile breakages repaired end to end on the real dev server: real ``docker build`` (and
``docker run``) against the local daemon in the local sandbox, the worker's real lookups (the
daemon's image tags, apt-cache in the base image), real git. There is no registry: base images
are the ones the daemon already has (``greenline-sandbox:bookworm``, built by infra/)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.artifacts import ArtifactStore
from models import Category, Engine, RepairRequest, RepairResult, SandboxKind, Status
from activities.docker_lookups import AptCache, LocalImageTags
from tests.git_repos import commit_files
from tests.integration.helpers import EXAMPLE_COMMANDS, example_repo, git, repair_in_process, settings_for

pytestmark = [pytest.mark.integration, pytest.mark.docker]

BASE = "greenline-sandbox:bookworm"


@dataclass
class Daemon:
    client: docker.DockerClient
    tags: list[str] = field(default_factory=list)  # tags the test made, removed after it


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    """The docker daemon; after the test, whatever the test's builds left on it is removed: its
    tags, the containers a failed legacy build step leaves, the dangling layers."""
    client = docker.from_env(timeout=120)
    try:
        base_id = client.images.get(BASE).id
    except docker.errors.DockerException as err:
        pytest.fail(f"{BASE} is not available ({err}): run `sudo bash infra/ensure-docker.sh`", pytrace=False)
    images_before = {image.id for image in client.images.list(all=True)}
    containers_before = {c.id for c in client.containers.list(all=True, sparse=True)}
    state = Daemon(client)
    yield state
    new_images = {image.id for image in client.images.list(all=True)} - images_before
    for container in client.containers.list(all=True, sparse=True):
        labels = container.attrs.get("Labels") or {}
        if (
            container.id not in containers_before
            and "greenline.build" not in labels
            and container.attrs.get("ImageID") in new_images | {base_id}
        ):
            container.remove(force=True)
    for tag in state.tags:
        with contextlib.suppress(docker.errors.NotFound):
            client.images.remove(tag)
    # The untagged layers the builds left, newest first (a layer's children go before it); never
    # forced, so nothing a running container or another tag still uses goes.
    leftovers = [i for i in client.images.list(all=True) if i.id in new_images and not i.tags]
    for image in sorted(leftovers, key=lambda i: i.attrs["Created"], reverse=True):
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(image.id)
    client.close()


async def run_repair(env: WorkflowEnvironment, tmp_path: Path, repo: Path, cmd: str) -> RepairResult:
    return await repair_in_process(
        env,
        settings_for(tmp_path),
        RepairRequest(repo_path=str(repo), cmd=cmd, sandbox=SandboxKind.LOCAL, engine=Engine.RULES, auto_approve=True),
    )


def rebuild_log(tmp_path: Path, result: RepairResult) -> str:
    rebuild = result.attempts[-1].rebuild
    assert rebuild is not None
    return ArtifactStore(settings_for(tmp_path).artifacts_dir).get(rebuild.log).decode()


def assert_repaired(result: RepairResult, repo: Path, head_before: str) -> str:
    """The fix is verified, on its own branch, and changes the Dockerfile only; returns its diff."""
    assert result.status == Status.REPAIRED, result.reason
    assert result.classification == Category.DOCKER
    final = result.attempts[-1]
    assert final.diagnosis.specialist == "dockerfile"
    assert final.verification is not None and final.verification.verified
    assert result.branch and git(repo, "rev-parse", f"{result.branch}^") == head_before
    assert git(repo, "diff", "--name-only", f"HEAD..{result.branch}").splitlines() == ["Dockerfile"]
    assert git(repo, "rev-parse", "HEAD") == head_before and git(repo, "status", "--porcelain") == ""
    return git(repo, "diff", f"HEAD..{result.branch}", "--", "Dockerfile")


def changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def tags_of(cmd: str) -> list[str]:
    words = cmd.split()
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-t"]


async def test_copy_of_a_moved_file(dev_server_env: WorkflowEnvironment, daemon: Daemon, tmp_path: Path) -> None:
    repo = example_repo("dockerfile-moved-file", tmp_path)
    cmd = EXAMPLE_COMMANDS["dockerfile-moved-file"]
    daemon.tags.extend(tags_of(cmd))
    result = await run_repair(dev_server_env, tmp_path, repo, cmd)
    diff = assert_repaired(result, repo, git(repo, "rev-parse", "HEAD"))
    assert "-COPY config/settings.toml ./settings.toml\n+COPY greeter/settings.toml ./settings.toml\n" in diff
    assert "hello from the container" in rebuild_log(tmp_path, result)
    assert result.spent.attempts == 1
    # The comment above the line and everything else in the file are untouched.
    assert len(changed_lines(diff)) == 2


async def test_pip_into_an_externally_managed_python(dev_server_env: WorkflowEnvironment, daemon: Daemon, tmp_path: Path) -> None:
    repo = example_repo("dockerfile-pep668", tmp_path)
    cmd = EXAMPLE_COMMANDS["dockerfile-pep668"]
    daemon.tags.extend(tags_of(cmd))
    result = await run_repair(dev_server_env, tmp_path, repo, cmd)
    diff = assert_repaired(result, repo, git(repo, "rev-parse", "HEAD"))
    assert '+RUN python3 -m venv /opt/venv\n+ENV PATH="/opt/venv/bin:$PATH"\n RUN pip install' in diff
    assert "break-system-packages" not in diff and "EXTERNALLY-MANAGED" not in diff
    # The image's CMD runs in the venv too: the rebuild's `docker run` printed its prefix.
    assert "report runs on /opt/venv" in rebuild_log(tmp_path, result)


async def test_entrypoint_at_a_missing_path(dev_server_env: WorkflowEnvironment, daemon: Daemon, tmp_path: Path) -> None:
    repo = example_repo("dockerfile-entrypoint", tmp_path)
    cmd = EXAMPLE_COMMANDS["dockerfile-entrypoint"]
    daemon.tags.extend(tags_of(cmd))
    result = await run_repair(dev_server_env, tmp_path, repo, cmd)
    diff = assert_repaired(result, repo, git(repo, "rev-parse", "HEAD"))
    assert '-ENTRYPOINT ["/srv/entrypoint.sh"]\n+ENTRYPOINT ["/srv/scripts/entrypoint.sh"]\n' in diff
    assert "worker started --once" in rebuild_log(tmp_path, result)


async def test_base_image_tag_that_no_longer_exists(dev_server_env: WorkflowEnvironment, daemon: Daemon, tmp_path: Path) -> None:
    # The daemon has 11.0, 12.4 and 12.9 of this image; the Dockerfile asks for 12.2, which it
    # does not have and cannot pull (no registry).
    repository = f"greenline-test-base-{uuid.uuid4().hex[:8]}"
    for tag in ("11.0", "12.4", "12.9"):
        daemon.client.images.get(BASE).tag(repository, tag)
        daemon.tags.append(f"{repository}:{tag}")
    image = f"greenline-test-retag-{uuid.uuid4().hex[:8]}"
    daemon.tags.append(image)
    repo = tmp_path / "base-tag"
    commit_files(
        repo,
        {
            "Dockerfile": f"# Pinned base, bumped by hand.\nFROM {repository}:12.2\nRUN python3 --version\n",
            ".dockerignore": ".git\n.greenline\n",
        },
    )
    head = git(repo, "rev-parse", "HEAD")
    result = await run_repair(dev_server_env, tmp_path, repo, f"docker build -q -t {image} .")
    diff = assert_repaired(result, repo, head)
    assert f"-FROM {repository}:12.2\n+FROM {repository}:12.4\n" in diff


async def test_apt_package_renamed(dev_server_env: WorkflowEnvironment, daemon: Daemon, tmp_path: Path) -> None:
    # bookworm has no package named netcat any more, only the packages that provide it; the
    # build fetches package lists from the distribution's mirror, as any apt step does.
    image = f"greenline-test-apt-{uuid.uuid4().hex[:8]}"
    daemon.tags.append(image)
    repo = tmp_path / "apt"
    dockerfile = f"FROM {BASE}\nRUN apt-get update -qq \\\n    && apt-get install -y -qq --no-install-recommends netcat \\\n    && rm -rf /var/lib/apt/lists/*\n"
    commit_files(repo, {"Dockerfile": dockerfile, ".dockerignore": ".git\n.greenline\n"})
    head = git(repo, "rev-parse", "HEAD")
    result = await run_repair(
        dev_server_env, tmp_path, repo, f"docker build -q -t {image} . && docker run --rm {image} sh -c 'command -v nc'"
    )
    diff = assert_repaired(result, repo, head)
    assert (
        "-    && apt-get install -y -qq --no-install-recommends netcat \\\n+    && apt-get install -y -qq --no-install-recommends netcat-"
        in diff
    )


def test_the_real_lookups(daemon: Daemon) -> None:
    repository = f"greenline-test-tags-{uuid.uuid4().hex[:8]}"
    for tag in ("3.11-slim", "3.12-slim"):
        daemon.client.images.get(BASE).tag(repository, tag)
        daemon.tags.append(f"{repository}:{tag}")
    assert LocalImageTags()(repository) == ["3.11-slim", "3.12-slim"]
    assert LocalImageTags()(f"docker.io/library/{repository}") == ["3.11-slim", "3.12-slim"]
    assert LocalImageTags()("greenline-test-no-such-repository") == []
    apt = AptCache()
    related = {p.name: p for p in apt("libssl1.1", BASE)}
    assert "libssl3" in related  # the soname bump, found by name in the image's own package lists
    providers = {p.name for p in apt("netcat", BASE) if "netcat" in p.provides}
    assert providers >= {"netcat-openbsd", "netcat-traditional"}
