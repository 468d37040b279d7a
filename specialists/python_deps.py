"""Python dependencies specialist: a module the build imports is provided by no installed
distribution, so the distribution that provides it goes into the requirements source."""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from models import Category, Diagnosis, Patch
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
    for path in view.paths():
        rooted = "/" + path
        if rooted.endswith(f"/{top}.py"):
            return True
        if f"/{top}/" in rooted and path.endswith(".py"):  # a package, namespace packages included
            return True
    return False


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
            path = normalise_path(view.in_build_dir(value))
            if view.exists(path) and path not in found:
                found.append(path)
    for name in ("requirements.txt", "requirements-dev.txt", "requirements/base.txt", "pyproject.toml"):
        path = view.in_build_dir(name)
        if view.exists(path) and path not in found:
            if name == "pyproject.toml" and "[project]" not in (view.read(path) or ""):
                continue
            found.append(path)
    return found


def normalise_path(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts:
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def declared(path: str, text: str) -> set[str]:
    """Canonical names of the distributions a requirements file, or a pyproject's [project]
    table (dependencies and optional dependencies, nothing of [build-system] or [tool.*]), declares."""
    if path.endswith(".toml"):
        project = tomllib.loads(text).get("project", {})
        lines = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            lines.extend(extra)
    else:
        lines = [raw.split("#", 1)[0] for raw in text.splitlines()]
    names: set[str] = set()
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("-"):
            continue
        try:
            names.add(canonicalize_name(Requirement(line).name))
        except InvalidRequirement:
            continue
    return names


def pins_exactly(text: str) -> bool:
    """House style: does this file pin its requirements with ``==``?"""
    reqs = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("#", "-"))]
    return bool(reqs) and sum("==" in r for r in reqs) * 2 > len(reqs)


def requirement_for(provider: Provider, text: str) -> str:
    """The line that declares ``provider`` in a requirements source reading ``text``:
    ``==latest`` when the file pins exactly."""
    pin = pins_exactly(text) and provider.latest_version
    return f"{provider.distribution}=={provider.latest_version}" if pin else provider.distribution


def declare(view: RepoView, source: str, text: str, requirements: list[str]) -> Patch:
    """The patch that adds ``requirements`` to ``source`` (whose text is ``text``)."""
    for requirement in requirements:
        text = add_requirement(source, text, requirement)
    return view.with_changes({source: text})


def add_requirement(path: str, text: str, requirement: str) -> str:
    """``text`` with ``requirement`` added, keeping order, comments and formatting."""
    if path.endswith(".toml"):
        return _add_to_pyproject(text, requirement)
    if text and not text.endswith("\n"):
        text += "\n"
    return text + requirement + "\n"


def _add_to_pyproject(text: str, requirement: str) -> str:
    # tomlkit keeps the file's comments, order and array layout.
    document = tomlkit.parse(text)
    project = document.get("project")
    if project is None:
        raise ValueError("pyproject.toml has no [project] table")
    if "dependencies" in project:
        project["dependencies"].append(requirement)
    else:
        project["dependencies"] = [requirement]
    return tomlkit.dumps(document)


def diagnose(view: RepoView, log_lines: list[str], cmd: str, resolve: ResolveImport, installed: Collection[str] = ()) -> Iterator[Diagnosis]:
    """Candidate diagnoses for missing distributions, best first. ``installed``: canonical
    names of what the failing build installed (its ``pip freeze``); a module whose provider is
    among them is not missing a distribution (a submodule an upstream release removed is the
    upstream-release specialist's)."""
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
    present = declared(source, text)
    additions: list[str] = []
    unresolved: list[str] = []
    already: list[str] = []
    in_build: list[str] = []
    for module in modules:
        provider = resolve(module)
        if provider is None:
            unresolved.append(module)
            continue
        if canonicalize_name(provider.distribution) in installed:
            in_build.append(f"{module} ({provider.distribution})")
            continue
        if canonicalize_name(provider.distribution) in present:
            already.append(f"{module} ({provider.distribution})")
            continue
        additions.append(requirement_for(provider, text))
    if not additions:
        reason = []
        if unresolved:
            reason.append(f"no distribution on the package index provides {', '.join(unresolved)}")
        if in_build:
            reason.append(f"the build did install {', '.join(in_build)}: a part of it is missing, not the distribution")
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
    yield Diagnosis(
        category=Category.DEPENDENCY,
        specialist=NAME,
        summary=f"add {', '.join(additions)} to {source} (the build imports {', '.join(modules)})",
        evidence=evidence,
        confidence=0.9,
        patch=declare(view, source, text, additions),
    )
