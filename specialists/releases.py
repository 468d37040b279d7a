"""A distribution's release history as the build's index publishes it, and the pure questions
the dependency-drift specialists ask of it (which release opened a series, which version is
closest to a pin). The index itself is asked through injected lookups, never from here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


@dataclass(frozen=True)
class Release:
    """One version of a project on the index: what pip would consider installing."""

    version: str
    upload_time: datetime | None = None  # the earliest upload of its files, when the index says
    yanked: bool = False  # every file yanked (PEP 592): pip skips it unless pinned exactly
    requires_python: str | None = None  # of its wheel when it has one (what pip would install)
    has_wheel: bool = False

    @property
    def parsed(self) -> Version:
        return Version(self.version)

    def supports(self, python: str | None) -> bool:
        """Can ``python`` (``3.11.7``) install this release? Unknown Python or metadata: yes."""
        if not python or not self.requires_python:
            return True
        try:
            return SpecifierSet(self.requires_python).contains(python, prereleases=True)
        except (InvalidSpecifier, InvalidVersion):
            return True


# A project's releases on the build's index, oldest first; ``None`` when the index has no such project.
ReleaseHistory = Callable[[str], "list[Release] | None"]
# The ``Requires-Dist`` lines of one release (``None``: the index has no metadata for it).
RequiresDist = Callable[[str, str], "list[str] | None"]


def stable(releases: Iterable[Release], *, keep: Version | None = None) -> list[Release]:
    """Installable, final releases sorted by version: what a bound or a pin should point at.
    ``keep`` survives the filter (the installed version, even when it is a prerelease)."""
    found: list[Release] = []
    for release in releases:
        try:
            version = release.parsed
        except InvalidVersion:
            continue
        if version == keep or (not release.yanked and not version.is_prerelease and not version.is_devrelease):
            found.append(release)
    return sorted(found, key=lambda r: r.parsed)


def series_level(previous: Version | None, version: Version) -> int:
    """How big a step ``version`` is from the release before it: 3 a new major series (a new
    minor one while the major is 0, where semver allows breaking changes), 2 a new minor
    series, 1 anything smaller. Breaking changes cluster on the big steps."""
    if previous is None:
        return 0  # the first release breaks nothing, and nothing is below it
    if version.major != previous.major:
        return 3
    if version.minor != previous.minor:
        return 3 if version.major == 0 else 2
    return 1


def series_starts(releases: list[Release], floor: Version | None, ceiling: Version, limit: int = 3) -> list[Release]:
    """Likely breaking releases in ``(floor, ceiling]``, newest bound first, each strictly below
    the one before: the newest release that opened a major series, then below it the newest
    that opened a minor series, and so on down to single releases. Bounding below each in turn
    is the sequence of ever-older environments worth rebuilding."""
    ordered = [r for r in releases if (floor is None or r.parsed > floor) and r.parsed <= ceiling]
    levels = {r.version: series_level(_previous(releases, r), r.parsed) for r in ordered}
    chosen: list[Release] = []
    upper = ceiling
    while len(chosen) < limit:
        window = [r for r in ordered if r.parsed <= upper]
        if not window:
            break
        best = max(window, key=lambda r: (levels[r.version], r.parsed))
        chosen.append(best)
        below = [r for r in releases if r.parsed < best.parsed]
        if not below:
            break
        upper = below[-1].parsed
    return chosen


def _previous(releases: list[Release], release: Release) -> Version | None:
    earlier = [r.parsed for r in releases if r.parsed < release.parsed]
    return earlier[-1] if earlier else None


def newest_below(releases: list[Release], bound: Version, python: str | None = None) -> Release | None:
    candidates = [r for r in releases if r.parsed < bound and r.supports(python)]
    return candidates[-1] if candidates else None


def closest(versions: list[Version], target: Version, *, prefer_newer: bool = True) -> Version | None:
    """The version nearest ``target`` in release order: ``target`` itself, else the next one up
    or the next one down (one release away either way: ``prefer_newer`` decides)."""
    ordered = sorted(set(versions))
    if not ordered:
        return None
    if target in ordered:
        return target
    above = [v for v in ordered if v > target]
    below = [v for v in ordered if v < target]
    if above and (prefer_newer or not below):
        return above[0]
    return below[-1]


def parse_freeze(text: str | None) -> dict[str, str]:
    """``pip freeze`` text as canonical name → version (``name==version`` lines only)."""
    found: dict[str, str] = {}
    for line in (text or "").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" not in line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        if name.strip() and version.strip():
            found[canonicalize_name(name.strip().split("[", 1)[0])] = version.strip()
    return found
