"""pip's messages (recorded from real pip 23 and 26 runs in data/pip/) and the resolver-conflict
specialist, with tables standing in for the index."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from models import Diagnosis
from specialists import pip_output, resolver_conflict, router
from specialists.logs import clean
from specialists.python_deps import Provider
from specialists.releases import Release
from specialists.repo_view import RepoView

PIP = Path(__file__).parent / "data" / "pip"


def recorded(name: str) -> list[str]:
    return clean((PIP / f"{name}.log").read_text())


HISTORY = {
    "werkzeug": [Release(v) for v in ("2.2.2", "2.3.6", "2.3.7", "2.3.8", "3.0.0", "3.0.1", "3.1.9")],
    "flask": [Release(v) for v in ("2.2.5", "2.3.2", "2.3.3", "3.0.0", "3.0.1")],
    "dataclasses": [Release(v) for v in ("0.1", "0.6")] + [Release(v, requires_python=">=3.6, <3.7") for v in ("0.7", "0.8")],
}
REQUIRES = {
    ("flask", "3.0.0"): ["Werkzeug>=3.0.0", "Jinja2>=3.1.2", 'asgiref>=3.2 ; extra == "async"'],
    ("flask", "3.0.1"): ["Werkzeug>=3.0.0"],
    ("flask", "2.3.3"): ["Werkzeug>=2.3.7"],
    ("flask", "2.3.2"): ["Werkzeug>=2.3.3"],
}
asked: list[tuple[str, str]] = []


def history(project: str) -> list[Release] | None:
    return HISTORY.get(project)


def requires(project: str, version: str) -> list[str] | None:
    asked.append((project, version))
    return REQUIRES.get((project, version))


@pytest.fixture(autouse=True)
def _forget() -> None:
    asked.clear()


def diagnose(view: RepoView, lines: list[str], cmd: str) -> list[Diagnosis]:
    return list(resolver_conflict.diagnose(view, lines, cmd, release_history=history, requires_dist=requires))


def content(diagnosis: Diagnosis, path: str) -> str | None:
    assert diagnosis.patch is not None, diagnosis.escalate_reason
    return next(c.content for c in diagnosis.patch.changes if c.path == path)


# --- pip's messages --------------------------------------------------------------------------


@pytest.mark.parametrize("pip", ["pip23", "pip26"])
def test_quiet_conflict_names_only_the_participants(pip: str) -> None:
    found = pip_output.conflict(recorded(f"conflict-pinned-{pip}"))
    assert found is not None
    assert found.file_lines == [("req-conflict.txt", 1)]
    assert [str(r) for r in found.requested] == ["werkzeug==2.3.7"]
    assert found.user == [] and found.dependents == []


def test_verbose_conflict_block_with_a_constraint() -> None:
    found = pip_output.conflict(recorded("conflict-constraint-verbose-pip26"))
    assert found is not None and found.file_lines == [("req-c.txt", 1)]
    assert [(str(r), c) for r, c in found.user] == [("werkzeug==2.3.7", True)]
    assert [(d.name, d.version, str(d.requirement)) for d in found.dependents] == [("flask", "3.0.0", "Werkzeug>=3.0.0")]


def test_verbose_conflict_with_a_range() -> None:
    found = pip_output.conflict(recorded("conflict-range-verbose-pip23"))
    assert found is not None
    assert [str(r) for r in found.requested] == ["werkzeug<3"]
    assert [(str(r), c) for r, c in found.user] == [("werkzeug<3", False)]


@pytest.mark.parametrize("pip", ["pip23", "pip26"])
def test_versions_ignored_for_the_python(pip: str) -> None:
    (missing,) = pip_output.unavailable(recorded(f"requires-python-pin-{pip}"))
    assert str(missing.requirement) == "dataclasses==0.8"
    assert missing.available == ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6"]
    assert set(missing.ignored_for_python) == {"0.7", "0.8"}
    assert missing.ignored_for_python["0.8"].replace(" ", "") == ">=3.6,<3.7"
    assert len(missing.evidence) == 3


@pytest.mark.parametrize("pip", ["pip23", "pip26"])
def test_a_project_that_requires_another_python(pip: str) -> None:
    lines = recorded(f"requires-python-project-{pip}")
    wrong = pip_output.wrong_python(lines)
    assert wrong is not None and (wrong.name, wrong.python, wrong.specifier) == ("proj", "3.11.7", ">=3.12")
    assert pip_output.python_version(lines) == "3.11.7"


def test_installed_versions_and_python_from_paths() -> None:
    lines = ["Successfully installed Flask-2.2.2 Werkzeug-3.1.9 zope.interface-7.0", "  File \"/v/lib/python3.12/site-packages/x/y.py\", line 1"]
    assert pip_output.installed_versions(lines) == {"flask": "2.2.2", "werkzeug": "3.1.9", "zope-interface": "7.0"}
    assert pip_output.python_version(lines) == "3.12"


# --- the specialist -----------------------------------------------------------------------------

REQUIREMENTS = "# Flask upgraded, werkzeug left behind.\nflask==3.0.0\nwerkzeug==2.3.7  # pinned for the old router\npytest==8.3.4\n"
QUIET = ["ERROR: Cannot install -r requirements.txt (line 2) and werkzeug==2.3.7 because these package versions have conflicting dependencies."]


def test_a_quiet_conflict_is_explained_from_the_index_and_the_pin_moves_closest() -> None:
    view = RepoView({"requirements.txt": REQUIREMENTS})
    first, second = diagnose(view, QUIET, "pip install -q -r requirements.txt")
    assert content(first, "requirements.txt") == REQUIREMENTS.replace("werkzeug==2.3.7", "werkzeug==3.0.0")
    assert "flask 3.0.0 depends on Werkzeug>=3.0.0 (its metadata on the index)" in first.evidence
    # Then the other way round: the closest flask whose requirement accepts werkzeug 2.3.7.
    assert content(second, "requirements.txt") == REQUIREMENTS.replace("flask==3.0.0", "flask==2.3.3")
    assert "flask 2.3.3 requires Werkzeug>=2.3.7" in second.summary


def test_a_constraint_in_a_constraints_file_is_changed_there() -> None:
    view = RepoView({"req-c.txt": "flask==3.0.0\n", "constraints.txt": "werkzeug==2.3.7\n"})
    lines = recorded("conflict-constraint-verbose-pip26")
    first = next(resolver_conflict.diagnose(view, lines, "pip install -r req-c.txt -c constraints.txt", release_history=history, requires_dist=requires))
    assert first.patch is not None and first.patch.paths == ["constraints.txt"]
    assert content(first, "constraints.txt") == "werkzeug==3.0.0\n"
    assert asked == []  # pip said why: no metadata needed


def test_a_range_loses_only_the_clause_that_conflicts() -> None:
    view = RepoView({"req-range.txt": "flask==3.0.0\nwerkzeug>=2.2,<3\n"})
    lines = [line.replace("werkzeug<3", "werkzeug<3,>=2.2") for line in recorded("conflict-range-verbose-pip23")]
    first = diagnose(view, lines, "pip install -r req-range.txt")[0]
    assert content(first, "req-range.txt") == "flask==3.0.0\nwerkzeug>=2.2\n"


def test_a_pin_no_release_of_which_supports_the_python_moves_to_the_nearest_that_does() -> None:
    view = RepoView({"requirements.txt": "dataclasses==0.8\n"})
    (move,) = diagnose(view, recorded("requires-python-pin-pip26"), "pip install -q -r requirements.txt")
    # 0.7 and 0.8 cap the Python below 3.7 (too old for it): the closest older one that pip found.
    assert content(move, "requirements.txt") == "dataclasses==0.6\n"
    assert "requires a different Python" in move.summary


def test_a_project_that_needs_another_python_escalates_with_what_to_do() -> None:
    (escalation,) = diagnose(RepoView({"pyproject.toml": "[project]\nname='proj'\n"}), recorded("requires-python-project-pip26"), "pip install .")
    assert escalation.patch is None
    assert "requires Python >=3.12 but the build runs Python 3.11.7" in (escalation.escalate_reason or "")


def test_an_unexplained_conflict_escalates() -> None:
    view = RepoView({"requirements.txt": "alpha==1.0\nbeta==2.0\n"})
    lines = ["ERROR: Cannot install alpha==1.0 and beta==2.0 because these package versions have conflicting dependencies."]
    (escalation,) = diagnose(view, lines, "pip install -q -r requirements.txt")
    assert escalation.patch is None and "run pip without -q" in (escalation.escalate_reason or "")


def test_the_router_tries_each_candidate_once() -> None:
    view = RepoView({"requirements.txt": REQUIREMENTS})
    log = "\n".join(QUIET)
    kwargs = {"resolve_import": lambda m: Provider(m), "release_history": history, "requires_dist": requires}
    first = router.diagnose(view, log, "pip install -q -r requirements.txt", **kwargs)  # type: ignore[arg-type]
    assert first.specialist == resolver_conflict.NAME and first.patch is not None
    second = router.diagnose(view, log, "pip install -q -r requirements.txt", tried_patch_ids=[first.patch.id], **kwargs)  # type: ignore[arg-type]
    assert second.patch is not None and second.patch.id != first.patch.id
    third = router.diagnose(view, log, "pip install -q -r requirements.txt", tried_patch_ids=[first.patch.id, second.patch.id], **kwargs)  # type: ignore[arg-type]
    assert third.patch is None and "no patch left" in (third.escalate_reason or "")


def test_requirement_helper_sanity() -> None:
    assert Requirement("Werkzeug (>=2.2.2)").specifier.contains("3.1.9")


def test_a_quiet_conflict_with_a_constraints_file_is_explained_from_the_index() -> None:
    # pip -q names only the requirements file's line: the constraint is found from flask's metadata.
    view = RepoView({"req-c.txt": "flask==3.0.0\n", "constraints.txt": "werkzeug==2.3.7\n"})
    first = diagnose(view, recorded("conflict-constraint-pip26"), "pip install -q -r req-c.txt -c constraints.txt")[0]
    assert content(first, "constraints.txt") == "werkzeug==3.0.0\n"
    assert ("flask", "3.0.0") in asked
