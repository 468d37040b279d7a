"""Upstream breaking release: the build broke because a third-party distribution released a
version whose API changed (an ``ImportError``, ``AttributeError`` or ``TypeError`` from or
about it), not because of the repository's own change.

The mechanism, for any package: the traceback's ``site-packages/<top>/`` frames and the error
message name the module whose API changed (the *upstream*) and the third-party module that
called it (the *downstream*, if any); installed metadata (the build's ``pip freeze``) and the
index map them to distributions and the versions the failing run installed; the index's
release history says which release most likely broke it. Candidates, best first:

1. an upper bound below the breaking release: the first release after the last green version
   (``known_good_env``), else the release that opened the installed major (then minor) series
   above the version the downstream was built against (its ``Requires-Dist`` floor, or the
   upstream release current when the downstream was uploaded);
2. the downstream upgraded to its first release that requires the new upstream series (it was
   adapted to the break), when the build pins or caps the downstream;
3. older bounds, each below the last.

The workflow rebuilds each in turn, so a wrong guess costs one rebuild, never a wrong fix.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from models import Category, Diagnosis, Patch
from specialists import pip_output
from specialists.python_deps import ResolveImport, pins_exactly, add_requirement, is_local_module
from specialists.releases import Release, ReleaseHistory, RequiresDist, parse_freeze, series_starts, stable
from specialists.repo_view import RepoView
from specialists.requirements_edit import Source, build_sources, find, set_specifier, with_upper_bound

NAME = "upstream-release"

_CANNOT_IMPORT = re.compile(r"ImportError: cannot import name '(?P<name>[\w.]+)' from '(?P<module>[\w.]+)'")
_MODULE_ATTR = re.compile(r"AttributeError: module '(?P<module>[\w.]+)' has no attribute '(?P<name>\w+)'")
_SUBMODULE = re.compile(r"ModuleNotFoundError: No module named '(?P<module>\w+\.[\w.]+)'")
_OTHER = re.compile(r"\b(?:TypeError|AttributeError): .+")
_FRAME_TOP = re.compile(r"(?:site|dist)-packages/(?P<top>[A-Za-z_]\w*)(?:/|\.py\b)")
# A traceback frame, as Python (``File "x.py", line 3, in f``) and pytest (``x.py:3: in f``) print it.
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line \d+|^(?P<short>\S+\.py):\d+: in ')
# Test runners' own frames: where a test's failure surfaces, never what broke.
_HARNESS = {"_pytest", "pytest", "pluggy", "py", "xdist", "coverage", "unittest", "nose", "nose2"}
_FRAMES_BEFORE = 80
_MAX_METADATA_LOOKUPS = 8


@dataclass(frozen=True)
class ApiFailure:
    """What broke: the error line, the module whose API changed (when the message names it),
    and the third-party top-level modules of the traceback, caller last."""

    line: str
    module: str | None
    frames: list[str]


def api_failure(lines: list[str]) -> ApiFailure | None:
    """The last error of the log that says a module's API is not what its caller expects."""
    for i in range(len(lines) - 1, -1, -1):
        text = lines[i]
        match = _CANNOT_IMPORT.search(text) or _MODULE_ATTR.search(text) or _SUBMODULE.search(text)
        if match is None and not _OTHER.search(text):
            continue
        window = lines[max(0, i - _FRAMES_BEFORE) : i]
        frames = [m.group("top") for line in window for m in _FRAME_TOP.finditer(line) if m.group("top") not in _HARNESS]
        if match is None and not _raised_in_third_party(window):
            continue  # a TypeError in the build's own code is the build's own bug
        return ApiFailure(text.strip().removeprefix("E").strip(), match.group("module") if match else None, frames)
    return None


def _raised_in_third_party(window: list[str]) -> bool:
    """Was the innermost frame before the error inside an installed package?"""
    for line in reversed(window):
        if frame := _FRAME.match(line):
            path = frame.group("path") or frame.group("short")
            top = _FRAME_TOP.search(path)
            return top is not None and top.group("top") not in _HARNESS
    return False


@dataclass(frozen=True)
class _Suspect:
    upstream: str  # canonical distribution names
    downstream: str | None


def diagnose(
    view: RepoView,
    lines: list[str],
    cmd: str,
    *,
    resolve_import: ResolveImport,
    release_history: ReleaseHistory,
    requires_dist: RequiresDist,
    environment: str | None = None,
    known_good_env: str | None = None,
) -> Iterator[Diagnosis]:
    failure = api_failure(lines)
    if failure is None:
        return
    installed = {**pip_output.installed_versions(lines), **parse_freeze(environment)}
    suspect = _suspect(view, failure, installed, resolve_import)
    if suspect is None:
        return
    evidence = [failure.line[:300]]
    upstream, downstream = suspect.upstream, suspect.downstream
    if upstream not in installed:
        yield _escalate(failure, evidence, f"{failure.line[:200]} is about {upstream}, but which version the failing build installed is unknown (no pip freeze, no 'Successfully installed' line)")
        return
    good = parse_freeze(known_good_env)
    if known_good_env and good.get(upstream) == installed[upstream] and downstream and good.get(downstream) not in (None, installed.get(downstream)):
        # The upstream did not move since the last green build, the downstream did: its new
        # release is the break.
        upstream, downstream = downstream, None
    history = release_history(upstream)
    if not history:
        yield _escalate(failure, evidence, f"the package index has no release history for {upstream}")
        return
    current = _version(installed[upstream])
    if current is None:
        yield _escalate(failure, evidence, f"the failing build installed {upstream} {installed[upstream]}, which is not a version the release history can place")
        return
    releases = stable(history, keep=current)
    python = pip_output.python_version(lines)
    caller = f"{downstream} {installed[downstream]}" if downstream and downstream in installed else downstream or "the build's code"
    evidence.append(f"the failing build installed {upstream} {current}" + (f" and {caller}" if downstream else ""))
    floor, why_floor, needed = _floor(upstream, downstream, installed, good, releases, release_history, requires_dist)
    if why_floor:
        evidence.append(why_floor)
    breaks = _breaking_releases(releases, floor, current, good.get(upstream))
    if not breaks:
        yield _escalate(
            failure, evidence,
            f"{failure.line[:200]}: no release of {upstream} between {floor or 'its first'} and the installed {current} to bound below; "
            "the break is not a newer upstream release",
        )
        return
    sources = build_sources(view, cmd)
    if not sources:
        yield _escalate(failure, evidence, f"{upstream} {breaks[0].version} likely broke {caller}, but the build has no requirements or constraints file to bound it in")
        return
    yielded = False
    for rank, breaking in enumerate(breaks):
        change = _bound(view, sources, upstream, breaking, releases, needed, python)
        if change is not None:
            patch, where = change
            released = f" (uploaded {breaking.upload_time:%Y-%m-%d})" if breaking.upload_time else ""
            how = "the first release after the last green build's" if good.get(upstream) else "the likely breaking release"
            yield Diagnosis(
                category=Category.DEPENDENCY,
                specialist=NAME,
                summary=f"bound {upstream} below {breaking.version} in {where}: {upstream} {breaking.version}{released} is {how}, and {caller} fails with it ({failure.line[:160]})",
                evidence=[*evidence, f"{upstream} {breaking.version}{released} is {how} ({_series_note(releases, breaking)})"],
                confidence=round(max(0.5, (0.85 if good.get(upstream) else 0.75) - 0.1 * rank), 2),
                patch=patch,
            )
            yielded = True
        if rank == 0 and downstream:
            upgrade = _downstream_upgrade(view, sources, downstream, installed, upstream, breaking, releases, release_history, requires_dist, python)
            if upgrade is not None:
                yield upgrade.model_copy(update={"evidence": [*evidence, *upgrade.evidence]})
                yielded = True
    if not yielded:
        yield _escalate(failure, evidence, f"{upstream} {breaks[0].version} likely broke {caller}, but no earlier release of {upstream} satisfies what the build requires of it")


def _suspect(view: RepoView, failure: ApiFailure, installed: dict[str, str], resolve: ResolveImport) -> _Suspect | None:
    """The distribution whose API changed and the third-party one that called it."""
    if failure.module is not None:
        top = failure.module.split(".")[0]
        callers = [t for t in failure.frames if t != top]
    elif failure.frames:
        # No module named: the deepest third-party frame raised it, its caller is the downstream.
        top = failure.frames[-1]
        callers = [t for t in failure.frames if t != top]
    else:
        return None
    if top in sys.stdlib_module_names or is_local_module(view, top):
        return None
    upstream = _distribution(top, installed, resolve)
    if upstream is None:
        return None
    downstream = None
    for caller in reversed(callers):
        if caller not in sys.stdlib_module_names and (dist := _distribution(caller, installed, resolve, ask_index=False)) and dist != upstream:
            downstream = dist
            break
    return _Suspect(upstream, downstream)


def _distribution(top: str, installed: dict[str, str], resolve: ResolveImport, *, ask_index: bool = True) -> str | None:
    for name in (top, top.replace("_", "-"), f"python-{top}", f"py{top}"):
        if canonicalize_name(name) in installed:
            return canonicalize_name(name)
    if ask_index:
        provider = resolve(top)
        # Nothing known installed: the provider still names the suspect (to escalate on).
        if provider is not None and (not installed or canonicalize_name(provider.distribution) in installed):
            return canonicalize_name(provider.distribution)
    return None


def _floor(
    upstream: str,
    downstream: str | None,
    installed: dict[str, str],
    good: dict[str, str],
    releases: list[Release],
    release_history: ReleaseHistory,
    requires_dist: RequiresDist,
) -> tuple[Version | None, str | None, Requirement | None]:
    """The newest upstream version known (or most likely) to work, why, and the downstream's
    requirement on the upstream (a bound must leave it satisfiable)."""
    if upstream in good:
        return _version(good[upstream]), f"the last green build had {upstream} {good[upstream]}", None
    if not downstream or downstream not in installed:
        return None, None, None
    needed = _requirement_on(requires_dist(downstream, installed[downstream]), upstream)
    floors: list[tuple[Version, str]] = []
    if needed is not None and needed.specifier:
        admitted = [r.parsed for r in releases if needed.specifier.contains(r.parsed)]
        if admitted:
            floors.append((min(admitted), f"{downstream} {installed[downstream]} requires {needed}"))
    uploaded = next((r.upload_time for r in release_history(downstream) or [] if r.version == str(_version(installed[downstream]))), None)
    if uploaded is not None:
        before = [r for r in releases if r.upload_time is not None and r.upload_time <= uploaded]
        if before:
            floors.append((before[-1].parsed, f"{upstream} {before[-1].version} was the newest release when {downstream} {installed[downstream]} was uploaded ({uploaded:%Y-%m-%d})"))
    if not floors:
        return None, None, needed
    version, why = max(floors)
    return version, why, needed


def _breaking_releases(releases: list[Release], floor: Version | None, current: Version, good: str | None) -> list[Release]:
    if good is not None:
        after = [r for r in releases if r.parsed > Version(good) and r.parsed <= current]
        return after[:1]
    return series_starts(releases, floor, current)


def _bound(
    view: RepoView, sources: list[Source], dist: str, breaking: Release, releases: list[Release], needed: Requirement | None, python: str | None
) -> tuple[Patch, str] | None:
    """The patch that keeps ``dist`` below ``breaking``, and where it goes."""
    below = [r for r in releases if r.parsed < breaking.parsed and r.supports(python) and (needed is None or needed.specifier.contains(r.parsed, prereleases=True))]
    if not below:
        return None
    target = below[-1]
    declared = find(view, sources, dist)
    if declared:
        entry = declared[0]
        text = view.read(entry.path) or ""
        specifier = f"=={target.version}" if entry.pinned is not None else with_upper_bound(entry.specifier, breaking.parsed)
        if entry.pinned is None and not any(SpecifierSet(specifier).contains(r.parsed) for r in below):
            return None
        return view.with_changes({entry.path: set_specifier(entry, text, specifier)}), f"{entry.path} ({entry.where})"
    # Not declared: a constraints file bounds it without making it a direct dependency.
    source = next((s for s in sources if s.constraint), None) or next((s for s in sources if not s.constraint), None)
    if source is None:
        return None
    text = view.read(source.path) or ""
    line = f"{dist}=={target.version}" if not source.path.endswith(".toml") and pins_exactly(text) else f"{dist}<{breaking.version}"
    try:
        return view.with_changes({source.path: add_requirement(source.path, text, line)}), source.path
    except ValueError:
        return None


def _downstream_upgrade(
    view: RepoView,
    sources: list[Source],
    downstream: str,
    installed: dict[str, str],
    upstream: str,
    breaking: Release,
    upstream_releases: list[Release],
    release_history: ReleaseHistory,
    requires_dist: RequiresDist,
    python: str | None,
) -> Diagnosis | None:
    """The downstream's first newer release that requires the upstream's new series: it was
    adapted to the break. Only when the build holds the downstream back (a pin or a cap)."""
    declared = find(view, sources, downstream)
    if not declared or downstream not in installed:
        return None
    entry = declared[0]
    current = Version(installed[downstream])
    newer = [r for r in stable(release_history(downstream) or []) if r.parsed > current and r.supports(python)]
    if not newer or all(entry.specifier.contains(r.parsed) for r in newer):
        return None  # nothing newer, or the build already allows it: pip would have taken it
    older = [r.parsed for r in upstream_releases if r.parsed < breaking.parsed]
    # The first release of each series (and the newest) are where requirements change.
    probes = [r for i, r in enumerate(newer) if i == 0 or (r.parsed.major, r.parsed.minor) != (newer[i - 1].parsed.major, newer[i - 1].parsed.minor)]
    for release in probes[:_MAX_METADATA_LOOKUPS]:
        needed = _requirement_on(requires_dist(downstream, release.version), upstream)
        if needed is None or not needed.specifier:
            continue
        if not any(needed.specifier.contains(v) for v in older) and needed.specifier.contains(Version(installed[upstream])):
            text = view.read(entry.path) or ""
            specifier = f"=={release.version}" if entry.pinned is not None else f">={release.version}"
            return Diagnosis(
                category=Category.DEPENDENCY,
                specialist=NAME,
                summary=f"upgrade {downstream} to {release.version} in {entry.path}: its first release that requires {needed} (adapted to {upstream} {breaking.version})",
                evidence=[f"{downstream} {release.version} requires {needed}"],
                confidence=0.6,
                patch=view.with_changes({entry.path: set_specifier(entry, text, specifier)}),
            )
    return None


def _requirement_on(lines: list[str] | None, name: str) -> Requirement | None:
    for line in lines or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != name:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        return requirement
    return None


def _series_note(releases: list[Release], breaking: Release) -> str:
    earlier = [r for r in releases if r.parsed < breaking.parsed]
    if not earlier:
        return "its first release"
    previous = earlier[-1].parsed
    level = {3: "a new major series", 2: "a new minor series"}.get(
        3 if breaking.parsed.major != previous.major or (breaking.parsed.major == 0 and breaking.parsed.minor != previous.minor)
        else 2 if breaking.parsed.minor != previous.minor else 1,
        "a new release",
    )
    return f"{level} after {previous}"


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _escalate(failure: ApiFailure, evidence: list[str], reason: str) -> Diagnosis:
    return Diagnosis(
        category=Category.DEPENDENCY,
        specialist=NAME,
        summary=f"an upstream API change: {failure.line[:200]}",
        evidence=evidence,
        confidence=0.5,
        escalate_reason=reason,
    )
