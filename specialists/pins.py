"""Pin the culprits of a dependency bisection back to their last green versions, and nothing
else: the smallest change the bisection has shown to matter.

Where a culprit is declared (a requirements or constraints file, one they include, or
pyproject.toml), its specifier becomes ``==GOOD`` in place, extras, markers and comments kept.
A culprit the build only gets transitively is added: to the build's constraints file when it
has one (that constrains it without making it a direct dependency), else to the first
requirements source.
"""

from __future__ import annotations

from packaging.utils import canonicalize_name

from models import Category, Diagnosis
from models.bisection import Bisection
from specialists import requirements_edit
from specialists.python_deps import add_requirement
from specialists.repo_view import RepoView

NAME = "dependency-bisection"


def pin_back(view: RepoView, cmd: str, bisection: Bisection) -> Diagnosis:
    """The diagnosis of a conclusive bisection, with the patch that pins its culprits back."""
    evidence = [f"{c.describe()}: culprit" for c in bisection.culprits] + [
        f"probe {i}: {len(p.floating)} of {len(bisection.changes)} changes at their failing versions -> "
        + ("fails the same way" if p.reproduced else "does not fail that way")
        for i, p in enumerate(bisection.probes, 1)
    ]
    sources = requirements_edit.build_sources(view, cmd)
    if not sources:
        return Diagnosis(
            category=Category.DEPENDENCY, specialist=NAME, summary=bisection.reason, evidence=evidence, confidence=0.8,
            escalate_reason=f"{bisection.reason}; but the build names no requirements or constraints file to pin them in",
        )
    edits: dict[str, str] = {}
    for change in bisection.culprits:
        key, declared = canonicalize_name(change.name), False
        for source in sources:
            text = edits.get(source.path, view.read(source.path) or "")
            for entry in requirements_edit.entries(source, text):
                if entry.name == key:
                    text = requirements_edit.set_specifier(entry, text, f"=={change.good}")
                    edits[source.path], declared = text, True
        if not declared:
            target = next((s for s in sources if s.constraint), sources[0])
            text = edits.get(target.path, view.read(target.path) or "")
            note = "" if target.path.endswith(".toml") else f"  # {change.bad} broke the build (bisected against the last green build)"
            edits[target.path] = add_requirement(target.path, text, f"{change.name}=={change.good}{note}")
    pinned = ", ".join(f"{c.name}=={c.good}" for c in bisection.culprits)
    return Diagnosis(
        category=Category.DEPENDENCY,
        specialist=NAME,
        summary=f"pin {pinned} (last green version): {bisection.reason}",
        evidence=evidence,
        confidence=0.9,
        patch=view.with_changes(edits),
    )
