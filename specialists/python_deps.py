"""Python dependencies specialist: a module the build imports is provided by no installed
distribution, so the distribution that provides it goes into the requirements source."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from models import Category, Diagnosis
from specialists.repo_view import RepoView

NAME = "python-dependencies"

_MISSING = re.compile(r"(?:ModuleNotFoundError|ImportError): No module named ['\"]?([A-Za-z_][\w.]*)['\"]?")


@dataclass(frozen=True)
class Provider:
    """A distribution on the index that provides an import name."""

    distribution: str
    latest_version: str | None = None


# Given a top-level import name, the distribution on the build's index that provides it.
ResolveImport = Callable[[str], Provider | None]


def missing_modules(log_lines: list[str]) -> list[str]:
    """Top-level import names the build could not import, in order of first appearance."""
    seen: dict[str, None] = {}
    for line in log_lines:
        for match in _MISSING.finditer(line):
            seen.setdefault(match.group(1).split(".")[0], None)
    return list(seen)


def is_local_module(view: RepoView, top: str) -> bool:
    """True when the repo itself holds ``top`` (a package or module): not a dependency then."""
    suffixes = (f"/{top}.py", f"/{top}/__init__.py")
    return any(("/" + p).endswith(suffixes) or f"/{top}/" in "/" + p and p.endswith(".py") for p in view.paths())


def requirements_sources(view: RepoView, cmd: str) -> list[str]:
    """Where this build takes its dependencies from, best first (repo-relative paths)."""
    found: list[str] = []
    tokens = shlex.split(cmd, posix=True) if cmd else []
    for i, token in enumerate(tokens):
        value = None
        if token in ("-r", "--requirement") and i + 1 < len(tokens):
            value = tokens[i + 1]
        elif token.startswith("--requirement="):
            value = token.split("=", 1)[1]
        elif token.startswith("-r") and len(token) > 2:
            value = token[2:]
        if value:
            path = _normalise(view.in_build_dir(value))
            if view.exists(path) and path not in found:
                found.append(path)
    for name in ("requirements.txt", "requirements-dev.txt", "requirements/base.txt", "pyproject.toml"):
        path = view.in_build_dir(name)
        if view.exists(path) and path not in found:
            if name == "pyproject.toml" and "[project]" not in (view.read(path) or ""):
                continue
            found.append(path)
    return found


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts:
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def declared(text: str) -> set[str]:
    """Canonical names of the distributions a requirements file or pyproject declares."""
    names: set[str] = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip().strip('",')
        if not line or line.startswith("-"):
            continue
        try:
            names.add(canonicalize_name(Requirement(line).name))
        except InvalidRequirement:
            continue
    return names


def _pins_exactly(text: str) -> bool:
    """House style: does this file pin its requirements with ``==``?"""
    reqs = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("#", "-"))]
    return bool(reqs) and sum("==" in r for r in reqs) * 2 > len(reqs)


def add_requirement(path: str, text: str, requirement: str) -> str:
    """``text`` with ``requirement`` added, keeping order, comments and formatting."""
    if path.endswith(".toml"):
        return _add_to_pyproject(text, requirement)
    if text and not text.endswith("\n"):
        text += "\n"
    return text + requirement + "\n"


def _add_to_pyproject(text: str, requirement: str) -> str:
    project = re.search(r"(?ms)^\[project\]\s*$(.*?)(?=^\[|\Z)", text)
    if not project:
        raise ValueError("pyproject.toml has no [project] table")
    deps = re.search(r"(?m)^dependencies\s*=\s*\[", project.group(1))
    if not deps:
        # After the table's last line: a file without a final newline must stay valid TOML.
        at = project.start(1) + len(project.group(1).rstrip())
        return text[:at] + f'\ndependencies = ["{requirement}"]' + text[at:]
    opening = project.start(1) + deps.end(0) - 1
    closing, last, comma = _scan_array(text, opening)
    if last > opening + 1 and not comma:
        # Right after the last value, before any comment that follows it on its line.
        text = text[:last] + "," + text[last:]
        closing += 1
    if "\n" not in text[opening:closing]:
        gap = " " if last > opening + 1 else ""
        return f'{text[:closing].rstrip()}{gap}"{requirement}"{text[closing:]}'
    indent = re.search(r"\n([ \t]+)\S", text[opening:closing])
    pad = indent.group(1) if indent else "    "
    line_start = text.rfind("\n", 0, closing) + 1
    if text[line_start:closing].strip():  # the "]" closes the last value's line
        return f'{text[:closing]}\n{pad}"{requirement}",{text[closing:]}'
    return f'{text[:line_start]}{pad}"{requirement}",\n{text[line_start:]}'


def _scan_array(text: str, opening: int) -> tuple[int, int, bool]:
    """The TOML array whose ``[`` is at ``opening``: where its ``]`` is, where its last value
    ends, and whether a comma follows that value. Strings (``"requests[socks]"``) and comments
    may hold brackets and commas."""
    depth, last, comma, i = 0, opening + 1, False, opening
    while i < len(text):
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if ch in "\"'":
            i += 1
            while i < len(text) and text[i] != ch:
                i += 2 if ch == '"' and text[i] == "\\" else 1
            last, comma = i + 1, False
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i, last, comma
            last, comma = i + 1, False
        elif ch == ",":
            comma = True
        elif not ch.isspace():
            last, comma = i + 1, False
        i += 1
    raise ValueError("pyproject.toml: the dependencies array is not closed")


def diagnose(view: RepoView, log_lines: list[str], cmd: str, resolve: ResolveImport) -> Iterator[Diagnosis]:
    """Candidate diagnoses for missing distributions, best first."""
    modules = [m for m in missing_modules(log_lines) if not is_local_module(view, m)]
    if not modules:
        return
    evidence = [line.strip() for line in log_lines if _MISSING.search(line)][:5]
    sources = requirements_sources(view, cmd)
    if not sources:
        yield Diagnosis(
            category=Category.DEPENDENCY,
            specialist=NAME,
            summary=f"missing Python module(s) {', '.join(modules)}",
            evidence=evidence,
            confidence=0.6,
            escalate_reason=(
                f"the build cannot import {', '.join(modules)} but the repository has no requirements "
                "source (requirements.txt, a -r file in the build step, or pyproject.toml [project]) to add it to"
            ),
        )
        return
    source = sources[0]
    text = view.read(source) or ""
    present = declared(text)
    additions: list[str] = []
    unresolved: list[str] = []
    already: list[str] = []
    for module in modules:
        provider = resolve(module)
        if provider is None:
            unresolved.append(module)
            continue
        if canonicalize_name(provider.distribution) in present:
            already.append(f"{module} ({provider.distribution})")
            continue
        pin = _pins_exactly(text) and provider.latest_version
        additions.append(f"{provider.distribution}=={provider.latest_version}" if pin else provider.distribution)
    if not additions:
        reason = []
        if unresolved:
            reason.append(f"no distribution on the package index provides {', '.join(unresolved)}")
        if already:
            reason.append(f"{', '.join(already)} already declared in {source}: the install step may not run, or installs elsewhere")
        yield Diagnosis(
            category=Category.DEPENDENCY,
            specialist=NAME,
            summary=f"missing Python module(s) {', '.join(modules)}",
            evidence=evidence,
            confidence=0.5,
            escalate_reason="; ".join(reason),
        )
        return
    new_text = text
    for requirement in additions:
        new_text = add_requirement(source, new_text, requirement)
    yield Diagnosis(
        category=Category.DEPENDENCY,
        specialist=NAME,
        summary=f"add {', '.join(additions)} to {source} (the build imports {', '.join(modules)})",
        evidence=evidence,
        confidence=0.9,
        patch=view.with_changes({source: new_text}),
    )
