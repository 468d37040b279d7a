"""The Python dependencies specialist, with a plain function standing in for the package index."""

from __future__ import annotations

import tomllib

import pytest

from models import Category
from specialists.python_deps import (
    Provider,
    add_requirement,
    declared,
    diagnose,
    is_local_module,
    missing_modules,
    requirements_sources,
)
from specialists.repo_view import RepoView

INDEX = {"foobar": Provider("PyFooBar", "1.4.2"), "yaml": Provider("PyYAML", "6.0.2"), "dateutil": Provider("python-dateutil", None)}
asked: list[str] = []


def resolve(module: str) -> Provider | None:
    asked.append(module)
    return INDEX.get(module)


@pytest.fixture(autouse=True)
def _forget_questions() -> None:
    asked.clear()


def log(*modules: str) -> list[str]:
    return [line for m in modules for line in ("Traceback (most recent call last):", f"    import {m}", f"ModuleNotFoundError: No module named '{m}'")]


# --- reading the log and the repo ----------------------------------------------------------


def test_missing_modules_are_top_level_names_in_order_without_repeats() -> None:
    lines = [
        "E   ModuleNotFoundError: No module named 'yaml.cyaml'",
        "ImportError: No module named foo_bar",
        "ModuleNotFoundError: No module named 'yaml'",
        'ModuleNotFoundError: No module named "dateutil.parser"',
        "ImportError: cannot import name 'x' from 'y'",
    ]
    assert missing_modules(lines) == ["yaml", "foo_bar", "dateutil"]
    assert missing_modules(["all good"]) == []


def test_is_local_module_knows_the_repos_own_packages_and_modules() -> None:
    view = RepoView({"app/__init__.py": "", "src/pkg/util.py": "", "helpers.py": "", "README.md": ""})
    assert is_local_module(view, "app")
    assert is_local_module(view, "pkg")
    assert is_local_module(view, "helpers")
    assert not is_local_module(view, "ap")
    assert not is_local_module(view, "README")
    assert not is_local_module(view, "yaml")


def test_requirements_sources_put_the_build_commands_r_file_first() -> None:
    view = RepoView({"requirements.txt": "a\n", "reqs/ci.txt": "b\n", "pyproject.toml": "[project]\nname = 'x'\n"})
    assert requirements_sources(view, "pip install -r reqs/ci.txt && pytest") == ["reqs/ci.txt", "requirements.txt", "pyproject.toml"]
    for cmd in ("pip install --requirement=reqs/ci.txt", "pip install --requirement reqs/ci.txt", "pip install -rreqs/ci.txt"):
        assert requirements_sources(view, cmd)[0] == "reqs/ci.txt"
    # A -r file that does not exist is not a source; the conventional ones remain.
    assert requirements_sources(view, "pip install -r nope.txt") == ["requirements.txt", "pyproject.toml"]


def test_requirements_sources_of_a_subdir_build() -> None:
    view = RepoView(
        {"requirements.txt": "root\n", "svc/api/requirements.txt": "flask\n", "svc/api/reqs/dev.txt": "x\n", "svc/api/pyproject.toml": "[tool.black]\n"},
        subdir="svc/api",
    )
    assert requirements_sources(view, "pytest") == ["svc/api/requirements.txt"]  # no [project]: not a source
    assert requirements_sources(view, "pip install -r reqs/dev.txt") == ["svc/api/reqs/dev.txt", "svc/api/requirements.txt"]
    assert requirements_sources(view, "pip install -r ../../requirements.txt")[0] == "requirements.txt"


def test_declared_reads_requirements_files_and_pyproject() -> None:
    requirements = "# web\nFlask==3.0  # pinned\nrequests>=2 ; python_version > '3.8'\npython_dateutil\n-r other.txt\n--index-url https://x\n\n"
    assert declared("requirements.txt", requirements) == {"flask", "requests", "python-dateutil"}
    pyproject = '[project]\nname = "x"\ndependencies = [\n  "PyYAML>=6",\n  "uvicorn[standard]",\n]\n'
    assert declared("pyproject.toml", pyproject) == {"pyyaml", "uvicorn"}
    # Build requirements and tool settings are not the project's dependencies.
    with_build = '[build-system]\nrequires = [\n  "setuptools>=77",\n]\n\n' + pyproject + '[tool.x]\nplugins = [\n  "click",\n]\n'
    assert declared("pyproject.toml", with_build) == {"pyyaml", "uvicorn"}


# --- add_requirement -----------------------------------------------------------------------


def test_add_to_requirements_txt_keeps_comments_and_order() -> None:
    text = "# runtime\nflask==2.0  # web\n\nrequests==2.31"
    assert add_requirement("requirements.txt", text, "PyFooBar==1.4.2") == text + "\nPyFooBar==1.4.2\n"
    assert add_requirement("requirements.txt", "", "PyFooBar") == "PyFooBar\n"


ARRAYS = {
    "multi-line": '[\n    "flask>=2",\n    "requests",  # http\n]',
    "multi-line, comment, no trailing comma": '[\n    "flask>=2",\n    "requests"  # http, no trailing comma\n]',
    "multi-line, closed on the last value": '[\n    "flask>=2",\n    "requests"]',
    "multi-line, extras and markers": '[\n    "requests[socks]>=2",\n    "uvicorn[standard]; python_version >= \'3.9\'",\n]',
    "single-line": '["flask>=2", "requests"]',
    "single-line, trailing comma and comment": '["flask>=2", "requests",]  # comment',
    "single-line, brackets in strings": "['requests[socks]', \"a]b\"]",
    "empty": "[]",
    "empty multi-line": "[\n]",
}


@pytest.mark.parametrize("array", list(ARRAYS.values()), ids=list(ARRAYS))
def test_add_to_pyproject_dependencies_array(array: str) -> None:
    text = f'[build-system]\nrequires = ["setuptools"]\n\n[project]\nname = "x"\ndependencies = {array}\n\n[tool.ruff]\nline-length = 100\n'
    before = tomllib.loads(text)
    after = tomllib.loads(add_requirement("pyproject.toml", text, "PyFooBar==1.4.2"))
    assert after["project"]["dependencies"] == before["project"]["dependencies"] + ["PyFooBar==1.4.2"]
    assert after["build-system"] == before["build-system"] and after["tool"] == before["tool"]


def test_add_to_pyproject_keeps_the_multi_line_layout() -> None:
    # The file's own style wins: comments stay, and a trailing comma only where the file has one.
    text = '[project]\nname = "x"\ndependencies = [\n  "flask>=2",  # web\n  "requests"\n]\n'
    assert add_requirement("pyproject.toml", text, "PyFooBar") == (
        '[project]\nname = "x"\ndependencies = [\n  "flask>=2",  # web\n  "requests",\n  "PyFooBar"\n]\n'
    )
    trailing = '[project]\nname = "x"\ndependencies = [\n    "flask>=2",\n    "requests",\n]\n'
    assert add_requirement("pyproject.toml", trailing, "PyFooBar") == (
        '[project]\nname = "x"\ndependencies = [\n    "flask>=2",\n    "requests",\n    "PyFooBar",\n]\n'
    )


@pytest.mark.parametrize("tail", ["\n\n[tool.x]\na = 1\n", "\n", ""])
def test_add_to_a_project_table_without_dependencies(tail: str) -> None:
    text = f'[project]\nname = "x"\nversion = "1"{tail}'
    new = add_requirement("pyproject.toml", text, "PyFooBar")
    assert tomllib.loads(new)["project"] == {"name": "x", "version": "1", "dependencies": ["PyFooBar"]}


def test_add_to_a_pyproject_without_project_table_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\[project\]"):
        add_requirement("pyproject.toml", "[tool.black]\n", "PyFooBar")


# --- diagnose ------------------------------------------------------------------------------


def test_pinned_house_style_adds_the_latest_pin() -> None:
    view = RepoView({"requirements.txt": "# deps\nflask==3.0.0\nrequests==2.31.0\n", "app/main.py": "import foobar\n"})
    [diagnosis] = diagnose(view, log("foobar"), "pip install -r requirements.txt && pytest", resolve)
    assert diagnosis.category is Category.DEPENDENCY and diagnosis.escalate_reason is None
    assert diagnosis.patch is not None
    [change] = diagnosis.patch.changes
    assert change.path == "requirements.txt"
    assert change.content == "# deps\nflask==3.0.0\nrequests==2.31.0\nPyFooBar==1.4.2\n"
    assert "+PyFooBar==1.4.2" in diagnosis.patch.diff
    assert "ModuleNotFoundError: No module named 'foobar'" in diagnosis.evidence
    assert "PyFooBar==1.4.2" in diagnosis.summary and "requirements.txt" in diagnosis.summary


def test_pinned_house_style_without_a_known_version_adds_the_bare_name() -> None:
    view = RepoView({"requirements.txt": "flask==3.0.0\n"})
    [diagnosis] = diagnose(view, log("dateutil"), "pytest", resolve)
    assert diagnosis.patch is not None and diagnosis.patch.changes[0].content == "flask==3.0.0\npython-dateutil\n"


def test_unpinned_house_style_adds_the_bare_name() -> None:
    view = RepoView({"requirements.txt": "flask\nrequests>=2\n"})
    [diagnosis] = diagnose(view, log("yaml", "dateutil"), "pytest", resolve)
    assert diagnosis.patch is not None
    assert diagnosis.patch.changes[0].content == "flask\nrequests>=2\nPyYAML\npython-dateutil\n"


def test_a_subdir_build_patches_its_own_pyproject() -> None:
    pyproject = '[project]\nname = "api"\ndependencies = [\n  "flask",\n]\n'
    view = RepoView({"svc/api/pyproject.toml": pyproject, "requirements.txt": "other\n"}, subdir="svc/api")
    [diagnosis] = diagnose(view, log("foobar"), "pip install . && pytest", resolve)
    assert diagnosis.patch is not None
    [change] = diagnosis.patch.changes
    assert change.path == "svc/api/pyproject.toml"
    assert tomllib.loads(change.content or "")["project"]["dependencies"] == ["flask", "PyFooBar"]


def test_an_already_declared_distribution_escalates() -> None:
    view = RepoView({"requirements.txt": "pyfoobar==1.0\n"})
    [diagnosis] = diagnose(view, log("foobar"), "pytest", resolve)
    assert diagnosis.patch is None
    assert diagnosis.escalate_reason is not None
    assert "already declared in requirements.txt" in diagnosis.escalate_reason


def test_a_module_no_distribution_provides_escalates() -> None:
    view = RepoView({"requirements.txt": "flask\n"})
    [diagnosis] = diagnose(view, log("nosuchthing"), "pytest", resolve)
    assert diagnosis.patch is None
    assert diagnosis.escalate_reason is not None and "nosuchthing" in diagnosis.escalate_reason


def test_resolvable_modules_are_added_even_when_another_is_not() -> None:
    view = RepoView({"requirements.txt": "flask\n"})
    [diagnosis] = diagnose(view, log("nosuchthing", "foobar"), "pytest", resolve)
    assert diagnosis.patch is not None and diagnosis.patch.changes[0].content == "flask\nPyFooBar\n"


def test_a_local_module_is_not_a_dependency() -> None:
    view = RepoView({"requirements.txt": "flask\n", "foobar/__init__.py": ""})
    assert list(diagnose(view, log("foobar"), "pytest", resolve)) == []
    assert asked == []  # the index is not even asked


def test_no_requirements_source_escalates() -> None:
    view = RepoView({"app/main.py": "import foobar\n"})
    [diagnosis] = diagnose(view, log("foobar"), "pytest", resolve)
    assert diagnosis.patch is None
    assert diagnosis.escalate_reason is not None and "no requirements source" in diagnosis.escalate_reason


def test_a_log_without_missing_modules_gives_nothing() -> None:
    view = RepoView({"requirements.txt": "flask\n"})
    assert list(diagnose(view, ["E   assert 3 == 4"], "pytest", resolve)) == []
