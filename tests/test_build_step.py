"""Which build steps run docker: in their own commands, in the repository's scripts they run,
in the Makefile targets they make."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from greenline.build_step import docker_call, programs


@pytest.mark.parametrize(
    ("cmd", "runs"),
    [
        ("docker build -t app . && docker run --rm app", True),
        ("pip install -r requirements.txt && DOCKER_BUILDKIT=0 sudo -E /usr/bin/docker build .", True),
        ("make lint; timeout 60s docker-compose up --abort-on-container-exit", True),
        ("(cd app && docker compose run tests) | tee log", True),
        ("pip install -r requirements.txt && python -m pytest -q", False),
        ("echo docker build && grep -r docker .", False),  # a word, not the program run
        ("python build_docker_image.py", False),
        ("echo 'unbalanced", False),
        ("pytest # then docker build .", False),  # a comment
        ("if [ -n \"$PUSH\" ]; then docker push app; fi", True),
        ("for tag in a b; do docker tag app app:$tag; done", True),
        ("if ! docker info; then exit 1; fi", True),
    ],
)
def test_which_build_steps_run_docker(cmd: str, runs: bool) -> None:
    assert (docker_call(cmd) is not None) is runs


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "scripts" / "image.sh").write_text("#!/bin/sh\nset -e\n# build the image\ndocker build \\\n  -t app .\n")
    (root / "scripts" / "lint.sh").write_text("#!/bin/sh\nruff check . # not docker build\n")
    (root / "scripts" / "ci.sh").write_text("#!/bin/bash\n./scripts/lint.sh\nbash scripts/image.sh\n")
    (root / "scripts" / "loop.sh").write_text("#!/bin/sh\n. scripts/loop.sh\n")
    (root / "Makefile").write_text(
        ".PHONY: test image all\n"
        "test: lint\n\tpython -m pytest -q\n"
        "lint:\n\t@ruff check .\n"
        "image: test\n\t$(MAKE) -C docker push\n"
        "all: image\n"
        "DOCKER := docker\n"
    )
    (root / "docker").mkdir()
    (root / "docker" / "Makefile").write_text("push:\n\t-docker push app\nclean:\n\trm -rf build\n")
    return root


@pytest.mark.parametrize(
    ("cmd", "runs"),
    [
        ("./scripts/image.sh", True),
        ("sh -e scripts/image.sh", True),
        ("pip install -r requirements.txt && scripts/ci.sh", True),  # a script that runs a script
        ("./scripts/lint.sh", False),
        ("bash -c 'scripts/lint.sh'", False),
        ("scripts/loop.sh", False),  # a script that sources itself: read once
        ("./scripts/missing.sh", False),
        ("make test", False),
        ("make", False),  # the first target: test
        ("make image", True),  # through a recursive make in docker/
        ("make all", True),  # through its prerequisite
        ("make -C docker clean", False),
        ("make -C docker", True),
        ("cd scripts && ./lint.sh", False),
        ("cd docker && make push", True),
        ("make test && make image", True),  # the same Makefile made twice, for other targets
        ("bash -ec 'make lint && docker compose up -d'", True),
        ("sh -c \"./scripts/image.sh\"", True),
        ("sh -c 'make test'", False),
    ],
)
def test_a_build_step_runs_docker_through_the_scripts_and_make_targets_of_its_repository(repo: Path, cmd: str, runs: bool) -> None:
    assert (docker_call(cmd, repo) is not None) is runs


def test_scripts_outside_the_repository_are_not_read(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.sh"
    outside.write_text("docker build .\n")
    assert docker_call(f"bash {outside}", repo) is None
    assert docker_call("bash ../elsewhere.sh", repo) is None
    assert docker_call(f"bash {outside}", tmp_path) == "`docker build .` in elsewhere.sh"  # run from there, it is that folder's own


def test_the_commands_of_a_step_are_listed_from_their_program_on_with_their_file(repo: Path) -> None:
    lint = (repo / "scripts" / "lint.sh").resolve()
    assert list(programs("FOO=1 sudo -E timeout 5m ./scripts/lint.sh && echo ok", repo)) == [
        (["./scripts/lint.sh"], None), (["ruff", "check", "."], lint), (["echo", "ok"], None),
    ]


def test_the_user_is_told_where_the_step_runs_docker(repo: Path) -> None:
    assert docker_call("pytest && docker compose run --rm tests", repo) == "`docker compose run ...`"
    assert docker_call("scripts/ci.sh", repo) == "`docker build -t ...` in scripts/image.sh"
    assert docker_call("make image", repo) == "`docker push app` in docker/Makefile"
    assert docker_call("make test", repo) is None
