"""Pinning a bisection's culprits back: in place where declared, constrained where not."""

from __future__ import annotations

from models.bisection import Bisection, VersionChange
from specialists.pins import pin_back
from specialists.repo_view import RepoView

PACKAGING = VersionChange(name="packaging", good="21.3", bad="24.2")
URLLIB3 = VersionChange(name="urllib3", good="1.26.18", bad="2.2.3")


def bisection(*culprits: VersionChange) -> Bisection:
    return Bisection(changes=[*culprits, VersionChange(name="idna", good="3.4", bad="3.10")], culprits=list(culprits), conclusive=True, reason="found")


def changed(diagnosis_patch_files: dict[str, str | None], path: str) -> str:
    content = diagnosis_patch_files[path]
    assert content is not None
    return content


def test_a_declared_culprit_is_pinned_in_place_keeping_extras_markers_and_comments() -> None:
    view = RepoView({"requirements.txt": "# runtime\npytest==8.3.4\npackaging[extra] >=20 ; python_version >= '3.8'  # versions\nrequests\n"})
    diagnosis = pin_back(view, "pip install -r requirements.txt && pytest", bisection(PACKAGING))
    assert diagnosis.patch is not None
    files = {c.path: c.content for c in diagnosis.patch.changes}
    assert changed(files, "requirements.txt") == "# runtime\npytest==8.3.4\npackaging[extra]==21.3 ; python_version >= '3.8'  # versions\nrequests\n"


def test_a_transitive_culprit_goes_to_the_constraints_file_the_build_uses() -> None:
    view = RepoView({"requirements.txt": "requests\n", "constraints.txt": "idna<4\n"})
    diagnosis = pin_back(view, "pip install -r requirements.txt -c constraints.txt && pytest", bisection(URLLIB3))
    assert diagnosis.patch is not None and diagnosis.patch.paths == ["constraints.txt"]
    files = {c.path: c.content for c in diagnosis.patch.changes}
    assert changed(files, "constraints.txt").splitlines() == ["idna<4", "urllib3==1.26.18  # 2.2.3 broke the build (bisected against the last green build)"]


def test_pyproject_dependencies_are_pinned_in_place() -> None:
    pyproject = '[project]\nname = "app"\ndependencies = [\n    "packaging>=20",  # tags\n    "requests",\n]\n'
    diagnosis = pin_back(RepoView({"pyproject.toml": pyproject}), "pip install . && pytest", bisection(PACKAGING, URLLIB3))
    assert diagnosis.patch is not None
    text = changed({c.path: c.content for c in diagnosis.patch.changes}, "pyproject.toml")
    assert '"packaging==21.3",  # tags' in text and '"urllib3==1.26.18"' in text and '"requests",' in text


def test_without_a_file_to_pin_in_it_escalates_naming_the_culprits() -> None:
    diagnosis = pin_back(RepoView({"setup.py": "..."}), "pip install . && pytest", bisection(PACKAGING))
    assert diagnosis.patch is None and diagnosis.escalate_reason is not None
    assert "no requirements or constraints file" in diagnosis.escalate_reason
