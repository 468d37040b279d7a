"""The guardrail reviewer: tests are untouchable, failures may not be masked, scope is narrow."""

from __future__ import annotations

import pytest

from models import Patch
from specialists.guardrail import review
from specialists.repo_view import RepoView

BASE = {"requirements.txt": "flask==3.0.0\n", ".github/workflows/ci.yml": "steps:\n  - run: pip install -r requirements.txt\n  - run: pytest\n"}


def patch(changes: dict[str, str | None]) -> Patch:
    return RepoView(BASE).with_changes(changes)


@pytest.mark.parametrize("path", ["tests/test_app.py", "tests/data/fixture.json", "app/test_models.py", "app/models_test.py", "conftest.py", "pkg/conftest.py", "pytest.ini", "tox.ini"])
def test_touching_tests_is_refused_with_the_path_named(path: str) -> None:
    verdict = review(patch({path: "x = 1\n"}))
    assert not verdict.accepted
    assert len(verdict.findings) == 1
    assert verdict.findings[0].startswith("tests-touched:") and path in verdict.findings[0]


def test_deleting_a_test_is_refused_too() -> None:
    verdict = review(RepoView({"tests/test_app.py": "def test(): pass\n"}).with_changes({"tests/test_app.py": None}))
    assert not verdict.accepted and "tests/test_app.py" in verdict.findings[0]


def test_a_requirements_pin_is_accepted() -> None:
    fix = patch({"requirements.txt": "flask==3.0.0\nPyFooBar==1.4.2\n"})
    verdict = review(fix)
    assert verdict.accepted and verdict.findings == []
    assert verdict.patch_id == fix.id


def test_an_env_entry_is_accepted() -> None:
    assert review(patch({".env": "APP_MODE=development\n"})).accepted
    assert review(patch({"config/app.env": "APP_MODE=development\n"})).accepted


@pytest.mark.parametrize("path", ["pyproject.toml", "Dockerfile", "infra/main.tf", "requirements-dev.txt", "setup.cfg"])
def test_manifests_and_config_are_in_scope(path: str) -> None:
    assert review(patch({path: "# ok\n"})).accepted


@pytest.mark.parametrize("path", ["app/main.py", "setup.py", "scripts/build.sh", "Makefile"])
def test_source_files_are_out_of_scope(path: str) -> None:
    verdict = review(patch({path: "print('fixed')\n"}))
    assert not verdict.accepted
    assert verdict.findings == [f"out-of-scope: {path} is outside the paths a repair may change (manifests, env/config, Dockerfiles, Terraform, CI config)"]


@pytest.mark.parametrize("masked", ["  - run: pytest || true", "  - run: pytest || exit 0", "  - run: set +e; pytest", "    continue-on-error: true"])
def test_masking_failure_in_an_in_scope_file_is_refused(masked: str) -> None:
    ci = BASE[".github/workflows/ci.yml"].replace("  - run: pytest\n", masked + "\n")
    verdict = review(patch({".github/workflows/ci.yml": ci}))
    assert not verdict.accepted
    [finding] = verdict.findings
    assert finding.startswith("failure-masked: added line 3 ") and masked.strip() in finding


@pytest.mark.parametrize("skip", ["addopts = -k 'not slow'", "addopts = --deselect tests/test_app.py::test_x", "addopts = --ignore tests/slow"])
def test_deselecting_tests_in_config_is_refused(skip: str) -> None:
    verdict = review(patch({"setup.cfg": f"[tool:pytest]\n{skip}\n"}))
    assert not verdict.accepted
    assert verdict.findings == [f"tests-skipped: added line 2 skips or deselects tests: {skip}"]


def test_a_skip_marker_added_to_an_in_scope_file_is_refused() -> None:
    verdict = review(patch({"pyproject.toml": "[tool.x]\nhook = 'pytest.mark.skip'\n"}))
    assert not verdict.accepted and verdict.findings[0].startswith("tests-skipped:")


def test_only_added_lines_are_judged() -> None:
    base = RepoView({"requirements.txt": "flask==3.0.0  # not '|| true'\n"})
    assert review(base.with_changes({"requirements.txt": "flask==3.0.0  # not '|| true'\nrequests==2.31.0\n"})).accepted
    assert review(base.with_changes({"requirements.txt": "requests==2.31.0\n"})).accepted  # removing it is fine


def test_every_problem_is_reported() -> None:
    verdict = review(patch({"tests/test_app.py": "", "app/main.py": "", "requirements.txt": "flask==3.0.0 || true\n"}))
    assert [f.split(":")[0] for f in verdict.findings] == ["out-of-scope", "tests-touched", "failure-masked"]
