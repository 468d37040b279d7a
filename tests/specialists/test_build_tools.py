"""The build tools specialist, with a plain function standing in for the package index."""

from __future__ import annotations

import pytest

from models import Category
from specialists import router
from specialists.build_tools import diagnose, missing_programs, missing_pytest_options
from specialists.python_deps import Provider
from specialists.repo_view import RepoView

INDEX = {"pyflakes": Provider("pyflakes", "3.2.0"), "sphinx-build": Provider("Sphinx", "8.1.3"), "tox": Provider("tox", None)}
PLUGINS = {"--cov": Provider("pytest-cov", "6.0.0"), "--cov-report": Provider("pytest-cov", "6.0.0")}
CMD = "pip install -q -r requirements.txt && pyflakes src && python -m pytest -q"


class Tools:
    """The package index's answers, as a dict."""

    def resolve_command(self, program: str) -> Provider | None:
        return INDEX.get(program)

    def resolve_pytest_option(self, option: str) -> Provider | None:
        return PLUGINS.get(option)


TOOLS = Tools()


@pytest.mark.parametrize(
    ("line", "program"),
    [
        ("bash: line 1: pyflakes: command not found", "pyflakes"),
        ("bash: pyflakes: command not found", "pyflakes"),
        ("/bin/sh: 1: sphinx-build: not found", "sphinx-build"),
        ("sh: 1: tox: not found", "tox"),
        ("zsh: command not found: black", "black"),
        ("/usr/bin/bash: line 3: docker-compose: command not found", "docker-compose"),
        ("./ci/lint.sh: line 4: isort: command not found", "isort"),  # a script run by bash
        ("./ci/lint.sh: 4: isort: not found", "isort"),  # ...by dash
        ("environment: line 1: mypy: command not found", "mypy"),  # in a shell function
    ],
)
def test_the_shells_words_for_a_missing_program(line: str, program: str) -> None:
    assert missing_programs(["$ make lint", line, "make: *** [lint] Error 127"]) == [program]


def test_a_program_missed_long_before_the_end_did_not_end_the_build() -> None:
    log = ["bash: line 1: git-lfs: command not found", *(f"test_{i} PASSED" for i in range(30)), "FAILED test_x - KeyError: 'API_URL'"]
    assert missing_programs(log) == []
    assert missing_programs(log[:1] + log[-3:]) == ["git-lfs"]


@pytest.mark.parametrize(
    "line",
    [
        "bash: ./scripts/lint.sh: No such file or directory",  # a path of the repository's own
        "ERROR: config.yml: not found",  # not the shell
        "error: package 'pyflakes' not found",
        "bash: line 1: cd: build: No such file or directory",
    ],
)
def test_other_not_found_lines_are_not_missing_programs(line: str) -> None:
    assert missing_programs([line]) == []


def test_a_python_tool_goes_into_the_requirements_pinned_like_the_file() -> None:
    view = RepoView({"requirements.txt": "pytest==8.3.4\n", "src/app.py": ""})
    (diagnosis,) = diagnose(view, ["bash: line 1: pyflakes: command not found"], CMD, TOOLS)
    assert diagnosis.category == Category.DEPENDENCY and diagnosis.patch is not None
    assert {c.path: c.content for c in diagnosis.patch.changes} == {"requirements.txt": "pytest==8.3.4\npyflakes==3.2.0\n"}
    assert "pyflakes" in diagnosis.summary and diagnosis.evidence == ["bash: line 1: pyflakes: command not found"]


def test_several_tools_named_after_their_distribution_or_not() -> None:
    view = RepoView({"requirements-dev.txt": "pytest\n"})
    lines = ["/bin/sh: 1: sphinx-build: not found", "sh: 1: tox: not found"]
    (diagnosis,) = diagnose(view, lines, "pip install -r requirements-dev.txt && sphinx-build docs out; tox", TOOLS)
    assert diagnosis.patch is not None
    assert diagnosis.patch.changes[0].content == "pytest\nSphinx\ntox\n"


@pytest.mark.parametrize(
    ("files", "installed", "reason"),
    [
        ({"requirements.txt": "pytest\n"}, (), "`hadolint` is not installed where the build runs"),
        ({"requirements.txt": "pyflakes\n"}, (), "already declared in requirements.txt: the install step may not run before it"),
        ({"requirements.txt": "pytest\n"}, ("pyflakes",), "runs outside the environment it installs into"),
        ({"setup.cfg": ""}, (), "no requirements source"),
    ],
    ids=["not-a-python-tool", "already-declared", "installed-elsewhere", "nowhere-to-declare"],
)
def test_what_cannot_be_declared_escalates_saying_why(files: dict[str, str], installed: tuple[str, ...], reason: str) -> None:
    program = "hadolint" if reason.startswith("`hadolint`") else "pyflakes"
    (diagnosis,) = diagnose(RepoView(files), [f"bash: line 1: {program}: command not found"], CMD, TOOLS, installed=installed)
    assert diagnosis.patch is None and reason in str(diagnosis.escalate_reason)
    assert diagnosis.category == (Category.ENVIRONMENT if program == "hadolint" else Category.DEPENDENCY)


def test_docker_missing_in_the_build_points_at_the_local_sandbox() -> None:
    (diagnosis,) = diagnose(RepoView({}), ["./build.sh: line 4: docker: command not found"], "./build.sh", None)
    assert diagnosis.category == Category.ENVIRONMENT and "--sandbox local" in str(diagnosis.escalate_reason)


def test_a_script_of_the_repository_is_not_a_missing_tool() -> None:
    view = RepoView({"ci/lint": "#!/bin/sh\n", "requirements.txt": ""}, subdir="ci")
    assert list(diagnose(view, ["bash: line 1: lint: command not found"], "lint", TOOLS)) == []


def test_the_router_hands_a_missing_tool_to_the_specialist() -> None:
    view = RepoView({"requirements.txt": "pytest==8.3.4\n"})
    log = "Successfully installed pytest-8.3.4\nbash: line 1: pyflakes: command not found\n"
    diagnosis = router.diagnose(view, log, CMD, resolve_import=lambda module: None, tools=TOOLS)
    assert diagnosis.specialist == "build-tools" and diagnosis.patch is not None


PYTEST_USAGE = [
    "ERROR: usage: python -m pytest [options] [file_or_dir] [file_or_dir] [...]",
    "python -m pytest: error: unrecognized arguments: --cov=shipping --cov-report=term-missing -n 2",
    "  inifile: /build/pytest.ini",
    "  rootdir: /build",
]


def test_options_pytest_refused_name_the_plugin_to_declare() -> None:
    assert missing_pytest_options(PYTEST_USAGE) == ["--cov", "--cov-report"]  # "-n" names no plugin
    usage = "ERROR: usage: __main__.py [options] [file_or_dir] [file_or_dir] [...]"
    assert missing_pytest_options([usage, "__main__.py: error: unrecognized arguments: --timeout=30"]) == ["--timeout"]
    # argparse's words from another program are not pytest's.
    assert missing_pytest_options(["usage: deploy [-h] target", "deploy: error: unrecognized arguments: --cov"]) == []
    view = RepoView({"requirements.txt": "pytest==8.3.4\n"})
    (diagnosis,) = diagnose(view, PYTEST_USAGE, "pip install -r requirements.txt && python -m pytest --cov=shipping", TOOLS)
    assert diagnosis.category == Category.DEPENDENCY and diagnosis.patch is not None
    assert diagnosis.patch.changes[0].content == "pytest==8.3.4\npytest-cov==6.0.0\n"  # once, for both options
    assert diagnosis.evidence == PYTEST_USAGE[1:2]


def test_an_option_no_plugin_on_the_index_adds_escalates() -> None:
    lines = ["usage: pytest [options] [file_or_dir] [file_or_dir] [...]", "pytest: error: unrecognized arguments: --reruns=3"]
    (diagnosis,) = diagnose(RepoView({"requirements.txt": "pytest\n"}), lines, "pytest --reruns=3", TOOLS)
    assert diagnosis.patch is None and diagnosis.category == Category.DEPENDENCY
    assert "pytest does not know `--reruns`" in str(diagnosis.escalate_reason)
