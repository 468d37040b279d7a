"""The docker sandbox leaves no container behind, even one created the instant before its worker died."""

from __future__ import annotations

import uuid
from pathlib import Path

import docker
import pytest

from activities.sandbox.base import BuildSpec
from activities.sandbox.docker import DEFAULT_IMAGE, DockerSandbox, remove_workflow_containers
from tests.integration.helpers import greenline_containers

pytestmark = pytest.mark.docker


def _created_container(labels: dict[str, str]) -> str:
    """A container in state ``Created``: what a build leaves when its process dies right after create."""
    client = docker.from_env()
    try:
        return client.containers.create(DEFAULT_IMAGE, command=["true"], labels=labels).id or ""
    finally:
        client.close()


def test_removing_a_repairs_containers_takes_only_that_repairs(tmp_path: Path) -> None:
    mine = _created_container({"greenline.build": "wf-mine.2.1", "greenline.workflow": "wf-mine"})
    other = _created_container({"greenline.build": "wf-other.2.1", "greenline.workflow": "wf-other"})
    try:
        assert remove_workflow_containers("wf-mine") == 1
        assert greenline_containers("wf-mine") == []
        assert greenline_containers("wf-other") == [other]
    finally:
        remove_workflow_containers("wf-other")
    assert mine not in greenline_containers()


def test_a_new_attempt_removes_the_container_an_earlier_attempt_left_unrecorded(tmp_path: Path) -> None:
    stale = _created_container({"greenline.build": "wf-step.7.1", "greenline.step": "wf-step.7", "greenline.workflow": "wf-step"})
    checkout = tmp_path / "src"
    checkout.mkdir()
    spec = BuildSpec(
        build_id="wf-step.7.2", workflow_id="wf-step", cmd="true", checkout=checkout, subdir="",
        log_path=tmp_path / "build.log", junit_path=checkout / ".greenline" / "junit.xml", timeout_s=60,
    )
    spec.log_path.touch()
    try:
        outcome = DockerSandbox(network="off").run(spec, tick=lambda details: None, should_stop=lambda: False)
        assert outcome.exit_code == 0
        assert stale not in greenline_containers()
        assert greenline_containers("wf-step") == []  # and the new attempt's own container is gone too
    finally:
        remove_workflow_containers("wf-step")


def test_a_failed_docker_build_in_the_local_sandbox_leaves_no_container(tmp_path: Path) -> None:
    # The legacy builder keeps the container of the step that failed unless told --force-rm;
    # the local sandbox's docker shim tells it, whatever the build's own command line says.
    from activities.sandbox.local import LocalSandbox

    checkout = tmp_path / "src"
    (checkout / ".greenline").mkdir(parents=True)
    marker = f"GREENLINE_SHIM_TEST={uuid.uuid4().hex}"  # in the environment of this build's containers only
    (checkout / "Dockerfile").write_text(f"FROM {DEFAULT_IMAGE}\nENV {marker}\nRUN echo building && exit 3\n")
    spec = BuildSpec(
        build_id="wf-shim.1.1", workflow_id="wf-shim", cmd="docker build --no-cache -q . && docker image build --no-cache -q .",
        checkout=checkout, subdir="", log_path=tmp_path / "build.log", junit_path=checkout / ".greenline" / "junit.xml", timeout_s=120,
    )  # fmt: skip
    client = docker.from_env()
    try:
        outcome = LocalSandbox().run(spec, lambda details: None, lambda: False)
        left = [c.id for c in client.containers.list(all=True) if marker in (c.attrs["Config"].get("Env") or [])]
    finally:
        client.close()
    assert outcome.exit_code != 0 and "returned a non-zero code: 3" in spec.log_path.read_text()
    assert left == []
