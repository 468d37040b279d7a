"""Finding and changing one requirement in requirements files, constraints files and
pyproject.toml, with everything else in the file left as it was."""

from __future__ import annotations

import tomllib

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from specialists.repo_view import RepoView
from specialists.requirements_edit import (
    Source,
    build_sources,
    entries,
    find,
    poetry_specifier,
    set_specifier,
    with_upper_bound,
    without_clauses,
)

REQUIREMENTS = """\
# Web stack, pinned by the team.
flask==2.2.2  # the framework
Werkzeug[watchdog] >= 2.2 ; python_version >= "3.8"   # keep the marker
-r more.txt
--index-url https://example.invalid/simple
requests
"""


def test_requirements_entries_carry_their_line_and_specifier() -> None:
    found = entries(Source("requirements.txt"), REQUIREMENTS)
    assert [(e.name, str(e.specifier), e.line) for e in found] == [("flask", "==2.2.2", 2), ("werkzeug", ">=2.2", 3), ("requests", "", 6)]
    assert found[0].pinned == Version("2.2.2") and found[1].pinned is None


def test_set_specifier_changes_only_the_specifier_of_that_line() -> None:
    flask, werkzeug, requests = entries(Source("requirements.txt"), REQUIREMENTS)
    edited = set_specifier(flask, REQUIREMENTS, "==2.3.3")
    assert edited == REQUIREMENTS.replace("flask==2.2.2  #", "flask==2.3.3  #")
    edited = set_specifier(werkzeug, REQUIREMENTS, ">=2.2,<3.0.0")
    assert 'Werkzeug[watchdog]>=2.2,<3.0.0 ; python_version >= "3.8"   # keep the marker\n' in edited
    assert edited.splitlines()[0] == "# Web stack, pinned by the team." and len(edited.splitlines()) == len(REQUIREMENTS.splitlines())
    assert set_specifier(requests, REQUIREMENTS, "<3").endswith("requests<3\n")


def test_crlf_and_a_last_line_without_newline_survive() -> None:
    text = "a==1\r\nb==2"
    a, b = entries(Source("r.txt"), text)
    assert set_specifier(a, text, "==1.1") == "a==1.1\r\nb==2"
    assert set_specifier(b, text, "==3") == "a==1\r\nb==3"


def test_build_sources_follow_the_build_step_and_nested_files() -> None:
    view = RepoView(
        {
            "requirements.txt": "-r base.txt\n-c pins/constraints.txt\nflask\n",
            "base.txt": "requests\n",
            "pins/constraints.txt": "werkzeug<3\n",
            "ci/constraints.txt": "click<9\n",
        }
    )
    sources = build_sources(view, "pip install -r requirements.txt -c ci/constraints.txt && python -c 'import x'")
    assert sources == [
        Source("requirements.txt"),
        Source("ci/constraints.txt", constraint=True),
        Source("base.txt"),
        Source("pins/constraints.txt", constraint=True),
    ]
    assert [e.path for e in find(view, sources, "Werkzeug")] == ["pins/constraints.txt"]
    # ``python -c`` takes code, not a constraints file.
    assert build_sources(view, "python -c x.txt") == [Source("requirements.txt"), Source("base.txt"), Source("pins/constraints.txt", constraint=True)]


PYPROJECT = """\
[project]
name = "shop"
dependencies = [
    # the web framework
    "flask==2.2.2",
    "requests>=2",  # HTTP
]

[project.optional-dependencies]
test = ["pytest==8.3.4"]

[dependency-groups]
dev = ["ruff>=0.5"]

[tool.poetry.dependencies]
python = "^3.11"
httpx = "^0.27"
pydantic = { version = "~2.7", extras = ["email"] }
"""


def test_pyproject_entries_cover_pep621_groups_and_poetry() -> None:
    found = {e.name: e for e in entries(Source("pyproject.toml"), PYPROJECT)}
    assert set(found) == {"flask", "requests", "pytest", "ruff", "httpx", "pydantic"}
    assert found["pytest"].where == "[project.optional-dependencies.test]"
    assert found["httpx"].specifier == SpecifierSet(">=0.27,<0.28")
    assert found["pydantic"].specifier == SpecifierSet(">=2.7,<2.8")


def test_pyproject_edits_keep_comments_and_layout() -> None:
    found = {e.name: e for e in entries(Source("pyproject.toml"), PYPROJECT)}
    edited = set_specifier(found["flask"], PYPROJECT, "==2.3.3")
    assert edited == PYPROJECT.replace('"flask==2.2.2"', '"flask==2.3.3"')
    edited = set_specifier(found["ruff"], edited, ">=0.5,<0.6")
    edited = set_specifier(found["pydantic"], edited, ">=2.7,<2.7.4")
    assert "    # the web framework\n" in edited and '"requests>=2",  # HTTP' in edited
    data = tomllib.loads(edited)
    assert data["dependency-groups"]["dev"] == ["ruff>=0.5,<0.6"]
    assert data["tool"]["poetry"]["dependencies"]["pydantic"] == {"version": ">=2.7,<2.7.4", "extras": ["email"]}


@pytest.mark.parametrize(
    ("constraint", "pep440"),
    [("^1.2.3", ">=1.2.3,<2"), ("^0.2.3", ">=0.2.3,<0.3"), ("~1.2.3", ">=1.2.3,<1.3"), ("1.2.3", "==1.2.3"), (">=1,<2", ">=1,<2"), ("*", "")],
)
def test_poetry_constraints_read_as_pep440(constraint: str, pep440: str) -> None:
    assert poetry_specifier(constraint) == SpecifierSet(pep440)


def test_specifier_arithmetic_keeps_the_authors_order() -> None:
    assert with_upper_bound(SpecifierSet(">=2.2,!=2.2.1"), Version("3.0.0")) in (">=2.2,!=2.2.1,<3.0.0", "!=2.2.1,>=2.2,<3.0.0")
    assert with_upper_bound(SpecifierSet(">=2.2,<4"), Version("3.0.0")) == ">=2.2,<3.0.0"  # the looser cap goes
    assert without_clauses(SpecifierSet("<3"), list(SpecifierSet("<3"))) == ""
