"""Find and change one requirement where a build declares it: requirements and constraints
files, and pyproject.toml (PEP 621 ``[project]``, PEP 735 ``[dependency-groups]``, and the
common tool sections of pdm, uv and poetry), keeping order, comments and formatting.

A fix of dependency drift changes one specifier; everything else in the file (comments,
markers, extras, hashes, the author's spacing) stays as it was, so the diff is one line.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from specialists.python_deps import normalise_path, requirements_sources
from specialists.repo_view import RepoView

# pyproject arrays of PEP 508 strings, by table path ("*" = every key of that table).
_PEP508_ARRAYS = [
    ("project", "dependencies"),
    ("project", "optional-dependencies", "*"),
    ("dependency-groups", "*"),
    ("tool", "pdm", "dev-dependencies", "*"),
    ("tool", "uv", "dev-dependencies"),
    ("tool", "uv", "constraint-dependencies"),
    ("tool", "uv", "override-dependencies"),
]
# pyproject tables of ``name = "constraint"`` / ``name = {version = "..."}`` (poetry).
_POETRY_TABLES = [
    ("tool", "poetry", "dependencies"),
    ("tool", "poetry", "dev-dependencies"),
    ("tool", "poetry", "group", "*", "dependencies"),
]
# name[extras] then the specifier, up to a marker, a URL or the end.
_REQ_LINE = re.compile(r"^(?P<head>\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?)(?P<spec>[^;@]*?)(?P<tail>\s*(?:;.*)?)$")
_COMMENT = re.compile(r"(^|\s)#")


@dataclass(frozen=True)
class Source:
    """A file the build takes requirements (or constraints) from."""

    path: str
    constraint: bool = False


@dataclass(frozen=True)
class Entry:
    """One declared requirement: where it is and what it says."""

    path: str
    name: str  # canonical
    specifier: SpecifierSet
    where: str  # "line 3", "[project] dependencies", ...
    constraint: bool = False
    line: int | None = None  # 1-based, requirements files only

    @property
    def pinned(self) -> Version | None:
        """The version of an exact ``==`` pin (no wildcard), else ``None``."""
        for spec in self.specifier:
            if spec.operator in ("==", "===") and "*" not in spec.version:
                try:
                    return Version(spec.version)
                except ValueError:
                    return None
        return None


def build_sources(view: RepoView, cmd: str) -> list[Source]:
    """The requirements and constraints files of this build, best first: the build step's
    ``-r``/``-c`` files, the conventional files, and the files those include."""
    sources = [Source(p) for p in requirements_sources(view, cmd)]
    tokens = shlex.split(cmd, posix=True) if cmd else []
    for i, token in enumerate(tokens):
        value = None
        if token in ("-c", "--constraint") and i + 1 < len(tokens) and _after_pip_install(tokens, i):
            value = tokens[i + 1]
        elif token.startswith("--constraint="):
            value = token.split("=", 1)[1]
        if value:
            sources.append(Source(normalise_path(view.in_build_dir(value)), constraint=True))
    seen: dict[str, Source] = {}
    queue = list(sources)
    while queue:
        source = queue.pop(0)
        if source.path in seen or not view.exists(source.path):
            continue
        seen[source.path] = source
        if source.path.endswith(".toml"):
            continue
        folder = source.path.rsplit("/", 1)[0] if "/" in source.path else ""
        for raw in (view.read(source.path) or "").splitlines():
            parts = raw.split()
            if len(parts) >= 2 and parts[0] in ("-r", "--requirement", "-c", "--constraint"):
                path = normalise_path(f"{folder}/{parts[1]}" if folder else parts[1])
                queue.append(Source(path, constraint=source.constraint or parts[0] in ("-c", "--constraint")))
    return list(seen.values())


def _after_pip_install(tokens: list[str], i: int) -> bool:
    # ``bash -c`` and ``python -c`` take a command, not a constraints file.
    for token in reversed(tokens[:i]):
        if token in ("&&", "||", ";", "|"):
            return False
        if token == "install":
            return True
    return False


def entries(source: Source, text: str) -> list[Entry]:
    """Every requirement ``source`` declares, in file order."""
    if source.path.endswith(".toml"):
        return list(_pyproject_entries(source, text))
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        requirement = _line_requirement(raw)
        if requirement is not None:
            found.append(Entry(source.path, canonicalize_name(requirement.name), requirement.specifier, f"line {number}", source.constraint, number))
    return found


def find(view: RepoView, sources: list[Source], name: str) -> list[Entry]:
    """Where the build declares ``name``, best source first."""
    key = canonicalize_name(name)
    return [e for s in sources for e in entries(s, view.read(s.path) or "") if e.name == key]


def set_specifier(entry: Entry, text: str, specifier: str) -> str:
    """``text`` with ``entry``'s version specifier replaced by ``specifier`` ("" for none)."""
    if entry.path.endswith(".toml"):
        return _set_in_pyproject(text, entry.name, specifier)
    lines = text.splitlines(keepends=True)
    assert entry.line is not None
    raw = lines[entry.line - 1]
    body, newline = (raw[:-1], "\n") if raw.endswith("\n") else (raw, "")
    if body.endswith("\r"):
        body, newline = body[:-1], "\r" + newline
    code, comment = _split_comment(body)
    match = _REQ_LINE.match(code)
    if match is None:
        raise ValueError(f"{entry.path} {entry.where}: cannot edit {code.strip()!r}")
    spec_text = match.group("spec")
    trailing = spec_text[len(spec_text.rstrip()) :]
    lines[entry.line - 1] = match.group("head").rstrip() + specifier + trailing + match.group("tail") + comment + newline
    return "".join(lines)


def with_upper_bound(current: SpecifierSet, bound: Version) -> str:
    """``current`` narrowed to versions below ``bound``: the clauses that still matter are kept,
    upper bounds the new one makes redundant go, the new bound comes last."""
    kept = [str(s) for s in _ordered(current) if not (s.operator in ("<", "<=") and Version(s.version) >= bound)]
    return ",".join([*kept, f"<{bound}"])


def without_clauses(current: SpecifierSet, drop: list[Specifier]) -> str:
    return ",".join(str(s) for s in _ordered(current) if s not in drop)


def _ordered(current: SpecifierSet) -> list[Specifier]:
    # SpecifierSet iterates in no particular order: a stable one keeps diffs reproducible.
    return sorted(current, key=str)


def _split_comment(body: str) -> tuple[str, str]:
    match = _COMMENT.search(body)
    if match is None:
        return body, ""
    start = match.start() + len(match.group(1))
    code = body[:start]
    stripped = code.rstrip()
    return stripped, body[len(stripped) :]


def _line_requirement(raw: str) -> Requirement | None:
    code, _ = _split_comment(raw)
    code = code.strip().rstrip("\\").strip()
    if not code or code.startswith("-"):
        return None
    code = re.sub(r"\s--hash[= ]\S+", "", code)
    try:
        return Requirement(code)
    except InvalidRequirement:
        return None


# --------------------------------------------------------------------------- pyproject


def _tables(document: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """(dotted name, value) of every table/array a path pattern names."""
    def walk(node: Any, rest: tuple[str, ...], trail: list[str]) -> Iterator[tuple[str, Any]]:
        if not rest:
            yield ".".join(trail), node
            return
        if not hasattr(node, "items"):
            return
        head, *tail = rest
        keys = list(node.keys()) if head == "*" else [head] if head in node else []
        for key in keys:
            yield from walk(node[key], tuple(tail), [*trail, key])

    yield from walk(document, path, [])


def _pyproject_entries(source: Source, text: str) -> Iterator[Entry]:
    document = tomlkit.parse(text)
    for pattern in _PEP508_ARRAYS:
        for where, array in _tables(document, pattern):
            if not isinstance(array, list):
                continue
            for item in array:
                if isinstance(item, str):
                    try:
                        requirement = Requirement(item)
                    except InvalidRequirement:
                        continue
                    yield Entry(source.path, canonicalize_name(requirement.name), requirement.specifier, f"[{where}]", source.constraint)
    for pattern in _POETRY_TABLES:
        for where, table in _tables(document, pattern):
            if not hasattr(table, "items"):
                continue
            for name, value in table.items():
                if name == "python":
                    continue
                constraint = value if isinstance(value, str) else value.get("version") if hasattr(value, "get") else None
                if isinstance(constraint, str):
                    yield Entry(source.path, canonicalize_name(name), poetry_specifier(constraint), f"[{where}]", source.constraint)


def _set_in_pyproject(text: str, name: str, specifier: str) -> str:
    document = tomlkit.parse(text)
    changed = False
    for pattern in _PEP508_ARRAYS:
        for _, array in _tables(document, pattern):
            if not isinstance(array, list):
                continue
            for i, item in enumerate(array):
                if not isinstance(item, str):
                    continue
                try:
                    requirement = Requirement(item)
                except InvalidRequirement:
                    continue
                if canonicalize_name(requirement.name) == name:
                    match = _REQ_LINE.match(str(item))
                    if match:
                        array[i] = match.group("head").rstrip() + specifier + match.group("tail")
                        changed = True
    for pattern in _POETRY_TABLES:
        for _, table in _tables(document, pattern):
            if not hasattr(table, "items"):
                continue
            for key in list(table.keys()):
                if canonicalize_name(key) != name:
                    continue
                value = table[key]
                if isinstance(value, str):
                    table[key] = specifier or "*"
                    changed = True
                elif hasattr(value, "get") and "version" in value:
                    value["version"] = specifier or "*"
                    changed = True
    if not changed:
        raise ValueError(f"pyproject.toml declares no {name}")
    return tomlkit.dumps(document)


def poetry_specifier(constraint: str) -> SpecifierSet:
    """A poetry constraint (``^1.2``, ``~1.2.3``, ``1.2.*``, ``>=1,<2``, ``1.2.3``) as PEP 440."""
    clauses: list[str] = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", constraint.strip()):
        part = part.strip()
        if not part or part == "*":
            continue
        if part.startswith("^") or (part.startswith("~") and not part.startswith("~=")):
            base = part.lstrip("^~").strip()
            numbers = [int(n) for n in re.findall(r"\d+", base)[:3]] or [0]
            if part.startswith("^"):
                first = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
            else:
                first = 1 if len(numbers) > 1 else 0
            upper = numbers[: first + 1]
            upper[-1] += 1
            clauses += [f">={base}", "<" + ".".join(map(str, upper))]
        elif part[0].isdigit():
            clauses.append(f"=={part}")
        else:
            clauses.append(part)
    try:
        return SpecifierSet(",".join(clauses))
    except InvalidSpecifier:
        return SpecifierSet()
