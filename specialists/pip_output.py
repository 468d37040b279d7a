"""What pip's own messages say about a failed install, parsed from the build log.

The formats come from real pip runs (``tests/specialists/data/pip/*.log``, pip 23 and 26).
Builds usually run ``pip install -q``, which drops the explanatory block (``The conflict is
caused by: ...``) and keeps only the ``ERROR:`` lines, so every parser here works with whatever
part of the story the log kept, and the specialists fill the rest in from the index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# ERROR: Cannot install -r req.txt (line 1) and werkzeug==2.3.7 because these package versions have conflicting dependencies.
_CANNOT_INSTALL = re.compile(r"Cannot install (?P<who>.+?) because these package versions have conflicting dependencies")
_FILE_LINE = re.compile(r"^-[rc] (?P<path>.+?) \(line (?P<line>\d+)\)$")
#     The user requested werkzeug==2.3.7 / The user requested (constraint) werkzeug==2.3.7
_USER_REQUESTED = re.compile(r"^\s*The user requested (?P<constraint>\(constraint\) )?(?P<req>.+?)\s*$")
#     flask 3.0.0 depends on Werkzeug>=3.0.0
_DEPENDS_ON = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*) (?P<version>\S+) depends on (?P<req>.+?)\s*$")
# ERROR: Ignored the following versions that require a different python version: 0.7 Requires-Python >=3.6, <3.7; 0.8 ...
_IGNORED = re.compile(r"Ignored the following versions that require a different python version: (?P<items>.+)$")
_IGNORED_ITEM = re.compile(r"^\s*(?P<version>\S+) Requires-Python (?P<spec>.+?)\s*$")
# ERROR: Could not find a version that satisfies the requirement dataclasses==0.8 (from versions: 0.1, 0.2)
_NOT_FOUND = re.compile(r"Could not find a version that satisfies the requirement (?P<req>.+?) \(from versions: (?P<versions>[^)]*)\)")
_NO_MATCH = re.compile(r"No matching distribution found for (?P<req>\S.*?)\s*$")
# ERROR: Package 'proj' requires a different Python: 3.11.7 not in '>=3.12'
_DIFFERENT_PYTHON = re.compile(r"Package '(?P<name>[^']+)' requires a different Python: (?P<python>\S+) not in '(?P<spec>[^']*)'")
_PYTHON_IN_PATH = re.compile(r"/python(?P<version>3\.\d+)/(?:site|dist)-packages/")
_SUCCESSFULLY_INSTALLED = re.compile(r"Successfully installed (?P<items>.+)$")


@dataclass(frozen=True)
class Dependent:
    """``flask 3.0.0 depends on Werkzeug>=3.0.0``."""

    name: str
    version: str
    requirement: Requirement


@dataclass
class Conflict:
    """A ``ResolutionImpossible``: who could not be installed together, and why when pip said."""

    # What pip names after "Cannot install": requirement strings, or (path, line) of a -r/-c file.
    requested: list[Requirement] = field(default_factory=list)
    file_lines: list[tuple[str, int]] = field(default_factory=list)
    # The "conflict is caused by" block (empty under ``pip -q``).
    user: list[tuple[Requirement, bool]] = field(default_factory=list)  # (requirement, from a constraints file)
    dependents: list[Dependent] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


@dataclass
class Unavailable:
    """A requirement no release satisfies on this index and Python."""

    requirement: Requirement
    available: list[str] = field(default_factory=list)  # pip's "from versions" list
    ignored_for_python: dict[str, str] = field(default_factory=dict)  # version → Requires-Python
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WrongPython:
    """``Package 'x' requires a different Python``: a local or direct-URL project."""

    name: str
    python: str
    specifier: str
    evidence: str


def _requirement(text: str) -> Requirement | None:
    try:
        return Requirement(text.strip())
    except InvalidRequirement:
        return None


def _split_names(who: str) -> list[str]:
    """``a, b and c`` → ``[a, b, c]`` (pip joins the names it cannot install like this)."""
    head, _, last = who.rpartition(" and ")
    parts = [p.strip() for p in head.split(", ")] if head else []
    return [p for p in [*parts, last.strip()] if p]


def conflict(lines: list[str]) -> Conflict | None:
    """The last ``ResolutionImpossible`` of the log, if any."""
    found: Conflict | None = None
    in_block = False
    for line in lines:
        text = line.strip()
        if match := _CANNOT_INSTALL.search(text):
            found = Conflict(evidence=[text])
            for part in _split_names(match.group("who")):
                if file_line := _FILE_LINE.match(part):
                    found.file_lines.append((file_line.group("path"), int(file_line.group("line"))))
                elif (req := _requirement(part)) is not None:
                    found.requested.append(req)
            in_block = False
            continue
        if found is None:
            continue
        if text.startswith("The conflict is caused by"):
            in_block = True
            continue
        if in_block:
            if not text:
                in_block = False
            elif (user := _USER_REQUESTED.match(text)) and (req := _requirement(user.group("req"))):
                found.user.append((req, bool(user.group("constraint"))))
                found.evidence.append(text)
            elif (dep := _DEPENDS_ON.match(text)) and (req := _requirement(dep.group("req"))):
                found.dependents.append(Dependent(dep.group("name"), dep.group("version"), req))
                found.evidence.append(text)
    return found


def unavailable(lines: list[str]) -> list[Unavailable]:
    """Requirements pip found no installable release for, with what it did find."""
    found: dict[str, Unavailable] = {}
    ignored: dict[str, str] = {}
    ignored_line = ""
    for line in lines:
        text = line.strip()
        if match := _IGNORED.search(text):
            ignored_line = text
            ignored = {}
            for item in match.group("items").split(";"):
                if parsed := _IGNORED_ITEM.match(item):
                    ignored[parsed.group("version")] = parsed.group("spec")
        elif (match := _NOT_FOUND.search(text)) and (req := _requirement(match.group("req"))):
            versions = [v.strip() for v in match.group("versions").split(",") if v.strip() and v.strip() != "none"]
            evidence = [e for e in (ignored_line, text) if e]
            found[req.name.lower()] = Unavailable(req, versions, dict(ignored), evidence)
            ignored, ignored_line = {}, ""
        elif (match := _NO_MATCH.search(text)) and (req := _requirement(match.group("req"))):
            entry = found.setdefault(req.name.lower(), Unavailable(req))
            entry.evidence.append(text)
    return list(found.values())


def wrong_python(lines: list[str]) -> WrongPython | None:
    for line in reversed(lines):
        if match := _DIFFERENT_PYTHON.search(line):
            return WrongPython(match.group("name"), match.group("python"), match.group("spec"), line.strip())
    return None


def python_version(lines: list[str]) -> str | None:
    """The build's Python, when the log shows it (pip's own message, or site-packages paths)."""
    for line in lines:
        if match := _DIFFERENT_PYTHON.search(line):
            return match.group("python")
    for line in lines:
        if match := _PYTHON_IN_PATH.search(line):
            return match.group("version")
    return None


def installed_versions(lines: list[str]) -> dict[str, str]:
    """Canonical name → version from pip's ``Successfully installed a-1.0 b_c-2.0`` lines."""
    found: dict[str, str] = {}
    for line in lines:
        if match := _SUCCESSFULLY_INSTALLED.search(line):
            for item in match.group("items").split():
                name, _, version = item.rpartition("-")
                if name and version:
                    found[canonicalize_name(name)] = version
    return found
