"""Resolver conflicts: pip cannot find a set of versions that satisfies every requirement
(``ResolutionImpossible``), or no release of a pinned requirement installs on the build's
Python (``Ignored the following versions that require a different python version``,
``No matching distribution found``).

The mechanism: the conflicting requirements come from pip's message; when ``pip -q`` hid the
explanation, the ``Requires-Dist`` of the pinned releases (from the index) rebuild it. The fix
changes one of the user's own requirements, in place: first the conflicted pin moves to the
release closest to it that every dependent accepts; else the dependent's pin moves to the
closest release that accepts the user's pin. Versions come from the index's release history,
never from a list.
"""

from __future__ import annotations

from collections.abc import Iterator

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from models import Category, Diagnosis
from specialists import pip_output
from specialists.pip_output import Conflict, Dependent, Unavailable
from specialists.python_deps import normalise_path
from specialists.releases import Release, ReleaseHistory, RequiresDist, closest, stable
from specialists.repo_view import RepoView
from specialists.requirements_edit import Entry, Source, build_sources, entries, set_specifier, without_clauses

NAME = "resolver-conflict"
_MAX_METADATA_LOOKUPS = 10


def diagnose(
    view: RepoView, lines: list[str], cmd: str, *, release_history: ReleaseHistory, requires_dist: RequiresDist
) -> Iterator[Diagnosis]:
    python = pip_output.python_version(lines)
    sources = build_sources(view, cmd)
    declared = {e.name: e for s in reversed(sources) for e in entries(s, view.read(s.path) or "")}
    if (found := pip_output.conflict(lines)) is not None:
        yield from _conflict(view, found, declared, sources, release_history, requires_dist, python)
        return
    for missing in pip_output.unavailable(lines):
        yield from _unavailable(view, missing, declared, release_history, python)
    if (wrong := pip_output.wrong_python(lines)) is not None:
        yield Diagnosis(
            category=Category.DEPENDENCY,
            specialist=NAME,
            summary=f"{wrong.name} requires Python {wrong.specifier}, the build runs {wrong.python}",
            evidence=[wrong.evidence],
            confidence=0.8,
            escalate_reason=(
                f"{wrong.name} requires Python {wrong.specifier} but the build runs Python {wrong.python}: run the build on a "
                f"Python that satisfies it (the CI image or python-version), or, if {wrong.name} really supports {wrong.python}, "
                "relax its requires-python; no requirement pin can change the interpreter"
            ),
        )


# --------------------------------------------------------------------------- conflicts


def _conflict(
    view: RepoView,
    found: Conflict,
    declared: dict[str, Entry],
    sources: list[Source],
    release_history: ReleaseHistory,
    requires_dist: RequiresDist,
    python: str | None,
) -> Iterator[Diagnosis]:
    evidence = list(found.evidence)
    dependents = list(found.dependents)
    if not dependents:
        # ``pip -q`` printed only who could not be installed together: ask the index why.
        dependents = _explain(view, found, declared, release_history, requires_dist)
        evidence += [f"{d.name} {d.version} depends on {d.requirement} (its metadata on the index)" for d in dependents]
    if not dependents:
        yield _escalate(evidence, "pip cannot install these requirements together, and neither its output nor the index's metadata says which requirement conflicts: run pip without -q to see 'The conflict is caused by'")
        return
    targets: dict[str, list[Dependent]] = {}
    for dependent in dependents:
        targets.setdefault(canonicalize_name(dependent.requirement.name), []).append(dependent)
    yielded = False
    for target, needing in targets.items():
        entry = declared.get(target)
        if entry is None:
            continue
        if (move := _move_pin(view, entry, needing, release_history, python, evidence)) is not None:
            yielded = True
            yield move
        for dependent in needing:
            if (move := _move_dependent(view, dependent, entry, declared, release_history, requires_dist, python, evidence)) is not None:
                yielded = True
                yield move
    if not yielded:
        names = ", ".join(sorted(targets))
        yield _escalate(evidence, f"pip cannot satisfy every requirement on {names}; no release of the build's own requirements resolves it (or {names} is not declared in a requirements file: it may come from the build step itself)")


def _explain(view: RepoView, found: Conflict, declared: dict[str, Entry], release_history: ReleaseHistory, requires_dist: RequiresDist) -> list[Dependent]:
    """The dependency requirements that make pip's participants conflict with the user's own
    requirements, from the ``Requires-Dist`` of the releases pip would pick."""
    participants: list[Entry] = []
    for path, line in found.file_lines:
        wanted = normalise_path(view.in_build_dir(path))
        participants += [e for e in declared.values() if e.line == line and (e.path == wanted or e.path.endswith("/" + path))]
    participants += [declared[canonicalize_name(r.name)] for r in found.requested if canonicalize_name(r.name) in declared]
    if not participants:
        participants = list(declared.values())
    dependents: list[Dependent] = []
    for participant in list(dict.fromkeys(participants))[:_MAX_METADATA_LOOKUPS]:
        version = participant.pinned or _newest(release_history(participant.name), participant.specifier)
        if version is None:
            continue
        for line in requires_dist(participant.name, str(version)) or []:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            target = canonicalize_name(requirement.name)
            other = declared.get(target)
            if other is None or target == participant.name or not _applies(requirement):
                continue
            if not _compatible(other.specifier, requirement.specifier, release_history(target)):
                dependents.append(Dependent(participant.name, str(version), requirement))
    return dependents


def _move_pin(view: RepoView, entry: Entry, needing: list[Dependent], release_history: ReleaseHistory, python: str | None, evidence: list[str]) -> Diagnosis | None:
    """The user's requirement on the conflicted distribution, moved to the release closest to
    it that every dependent accepts."""
    releases = stable(release_history(entry.name) or [])
    ok = [r.parsed for r in releases if r.supports(python) and all(d.requirement.specifier.contains(r.parsed, prereleases=True) for d in needing)]
    if not ok:
        return None
    wants = " and ".join(f"{d.name} {d.version} requires {d.requirement}" for d in needing)
    if entry.pinned is not None:
        version = closest(ok, entry.pinned)
        specifier = f"=={version}"
        what = f"move {entry.name} from {entry.pinned} to {version}, the closest release that {_who(needing)} accept{'s' if len(needing) == 1 else ''}"
    else:
        drop = [s for s in entry.specifier if not any(s.contains(v, prereleases=True) for v in ok)]
        specifier = without_clauses(entry.specifier, drop)
        if not any(SpecifierSet(specifier).contains(v, prereleases=True) for v in ok):
            return None
        what = f"drop {', '.join(map(str, drop)) or 'nothing'} from {entry.name}'s requirement ({entry.specifier or 'any'} → {specifier or 'any'})"
    text = view.read(entry.path) or ""
    return Diagnosis(
        category=Category.DEPENDENCY,
        specialist=NAME,
        summary=f"{what} in {entry.path} ({entry.where}): {wants}",
        evidence=evidence,
        confidence=0.85,
        patch=view.with_changes({entry.path: set_specifier(entry, text, specifier)}),
    )


def _move_dependent(
    view: RepoView,
    dependent: Dependent,
    conflicted: Entry,
    declared: dict[str, Entry],
    release_history: ReleaseHistory,
    requires_dist: RequiresDist,
    python: str | None,
    evidence: list[str],
) -> Diagnosis | None:
    """The dependent's pin moved to the release closest to it whose requirement on the
    conflicted distribution accepts the user's requirement."""
    entry = declared.get(canonicalize_name(dependent.name))
    if entry is None or entry.pinned is None:
        return None
    target = canonicalize_name(conflicted.name)
    wanted = conflicted.specifier
    conflicted_releases = release_history(target)
    pinned = entry.pinned
    releases = [r for r in stable(release_history(entry.name) or []) if r.parsed != pinned and r.supports(python)]
    # Nearest first, alternating up and down from the pin.
    above = [r for r in releases if r.parsed > pinned]
    below = [r for r in releases if r.parsed < pinned][::-1]
    order = [r for pair in zip(below, above, strict=False) for r in pair] + below[len(above) :] + above[len(below) :]
    for release in order[:_MAX_METADATA_LOOKUPS]:
        requirement = next((Requirement(line) for line in requires_dist(entry.name, release.version) or [] if _names(line) == target), None)
        if requirement is not None and _applies(requirement) and not _compatible(wanted, requirement.specifier, conflicted_releases):
            continue
        text = view.read(entry.path) or ""
        accepts = f"requires {requirement}" if requirement is not None else f"does not depend on {target}"
        return Diagnosis(
            category=Category.DEPENDENCY,
            specialist=NAME,
            summary=f"move {entry.name} from {pinned} to {release.version} in {entry.path} ({entry.where}): {entry.name} {release.version} {accepts}, which accepts {conflicted.name}{wanted}",
            evidence=evidence,
            confidence=0.7,
            patch=view.with_changes({entry.path: set_specifier(entry, text, f"=={release.version}")}),
        )
    return None


# --------------------------------------------------------------------------- no release installs


def _unavailable(view: RepoView, missing: Unavailable, declared: dict[str, Entry], release_history: ReleaseHistory, python: str | None) -> Iterator[Diagnosis]:
    name = canonicalize_name(missing.requirement.name)
    entry = declared.get(name)
    if entry is None:
        return
    available = [v for text in missing.available if (v := _version(text)) is not None and not v.is_prerelease]
    if not available:
        available = [r.parsed for r in stable(release_history(name) or []) if r.supports(python)]
    if not available:
        yield _escalate(missing.evidence, f"no release of {name} installs on this build's Python and index")
        return
    pinned = entry.pinned
    # Too old for this Python (its releases cap the Python version) → newer; too new → older.
    too_old = any(s.operator in ("<", "<=") for spec in missing.ignored_for_python.values() for s in _specifiers(spec))
    why = "requires a different Python" if missing.ignored_for_python else "is not on the index"
    if pinned is not None:
        version = closest(available, pinned, prefer_newer=too_old)
        specifier, what = f"=={version}", f"move {name} from {pinned} to {version}"
    else:
        drop = [s for s in entry.specifier if not any(s.contains(v) for v in available)]
        specifier = without_clauses(entry.specifier, drop)
        if not drop or not any(SpecifierSet(specifier).contains(v) for v in available):
            return
        what = f"drop {', '.join(map(str, drop))} from {name}'s requirement"
    text = view.read(entry.path) or ""
    yield Diagnosis(
        category=Category.DEPENDENCY,
        specialist=NAME,
        summary=f"{what} in {entry.path} ({entry.where}): {missing.requirement} {why}",
        evidence=missing.evidence,
        confidence=0.8,
        patch=view.with_changes({entry.path: set_specifier(entry, text, specifier)}),
    )


# --------------------------------------------------------------------------- helpers


def _compatible(user: SpecifierSet, needed: SpecifierSet, releases: list[Release] | None) -> bool:
    """Is there a release both specifiers accept? Without a history, compare the specifiers."""
    if releases:
        return any(user.contains(r.parsed, prereleases=True) and needed.contains(r.parsed, prereleases=True) for r in stable(releases))
    pins = [Version(s.version) for s in user if s.operator == "==" and "*" not in s.version]
    return all(needed.contains(p, prereleases=True) for p in pins)


def _newest(history: list[Release] | None, specifier: SpecifierSet) -> Version | None:
    matching = [r.parsed for r in stable(history or []) if specifier.contains(r.parsed)]
    return matching[-1] if matching else None


def _applies(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate({"extra": ""})


def _names(line: str) -> str | None:
    try:
        return canonicalize_name(Requirement(line).name)
    except InvalidRequirement:
        return None


def _specifiers(text: str) -> SpecifierSet:
    try:
        return SpecifierSet(text.replace(" ", ""))
    except ValueError:
        return SpecifierSet()


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _who(needing: list[Dependent]) -> str:
    return ", ".join(f"{d.name} {d.version}" for d in needing)


def _escalate(evidence: list[str], reason: str) -> Diagnosis:
    return Diagnosis(
        category=Category.DEPENDENCY,
        specialist=NAME,
        summary="pip cannot resolve the build's requirements",
        evidence=evidence,
        confidence=0.6,
        escalate_reason=reason,
    )
