"""Build tools specialist: the build step runs a program that is not installed where it builds
(``bash: line 1: black: command not found``, dash's ``sh: 1: tox: not found``), or passes
pytest an option of a plugin it does not have (``pytest: error: unrecognized arguments:
--cov=src``).

A Python tool is the console script of a distribution on the package index (``black``,
``tox``, ``sphinx-build`` of Sphinx), a pytest option the addition of a plugin (``--cov`` of
pytest-cov): that distribution goes into the requirements the build installs, as a missing
import's would. Any other program (``docker``, ``make``, ``node``) escalates, naming what is
missing: it belongs to the build's image or machine, not to the repository."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Protocol

from packaging.utils import canonicalize_name

from models import Category, Diagnosis
from specialists.python_deps import Provider, declare, declared, requirement_for, requirements_sources
from specialists.repo_view import RepoView

NAME = "build-tools"


class ToolIndex(Protocol):
    """The package index, asked which distribution provides a tool or a plugin."""

    def resolve_command(self, program: str) -> Provider | None:
        """The distribution whose console script ``program`` is."""

    def resolve_pytest_option(self, option: str) -> Provider | None:
        """The pytest plugin that adds command-line option ``option`` (``--cov``)."""


# bash ("bash: line 1: x: command not found", "./ci.sh: line 4: x: command not found"), dash and
# busybox ("/bin/sh: 1: x: not found", "./ci.sh: 4: x: not found"), zsh ("zsh: command not
# found: x"). Without a line number, only a shell's own name may come first ("ERROR: x: not
# found" is not the shell's). The name is a bare word: a path that is not there ("./run.sh") is
# the repository's own business.
_NOT_FOUND = re.compile(
    r"^(?:\S+: (?:line \d+|\d+)|(?:\S*/)?(?:ba|da|k|z)?sh): (?P<a>[\w.+-]+): (?:command )?not found\s*$"
    r"|^(?:\S*/)?zsh: command not found: (?P<b>[\w.+-]+)\s*$"
)
# argparse's words ("pytest: error: unrecognized arguments: --cov=x"; run as ``python -m pytest``
# the program may be "__main__.py"), under pytest's usage line ("usage: x [options] [file_or_dir]").
_UNRECOGNISED = re.compile(r"^[^:]+: error: unrecognized arguments: (?P<args>.+)$")
_PYTEST_USAGE = re.compile(r"usage: .*\[options\] \[file_or_dir\]")

_TAIL = 20  # the last lines of the log, where what ended the build is

# The docker sandbox has no docker inside (greenline.runtime keeps builds that run it by name out).
_DOCKER = ("docker", "docker-compose")
_DOCKER_HINT = ", or, if it is Greenline's docker sandbox, repair with --sandbox local"


def missing_programs(log_lines: list[str]) -> list[str]:
    """Programs the build's shell could not find near the end of its log, in order of first
    appearance."""
    seen: dict[str, None] = {}
    for match in _not_found(log_lines):
        seen.setdefault(match.group("a") or match.group("b"), None)
    return list(seen)


def _not_found(log_lines: list[str]) -> list[re.Match[str]]:
    return [match for line in _tail(log_lines) if (match := _NOT_FOUND.match(line))]


def _tail(log_lines: list[str]) -> list[str]:
    """The last lines of the log: what ended the build (``a && b`` stops at the missing tool;
    one missed long before, with ``a; b``, is not why it failed)."""
    return [line.strip() for line in log_lines if line.strip()][-_TAIL:]


@dataclass(frozen=True)
class _Need:
    """Something the build lacks, the distribution that provides it (if the index has one), and
    what to say when none does."""

    what: str
    provider: Provider | None
    unprovided: str
    # A program no distribution provides belongs to the machine; a pytest option is a plugin's.
    category: Category


def missing_pytest_options(log_lines: list[str]) -> list[str]:
    """Long options pytest refused near the end of the log (``--cov`` of ``--cov=src``): a
    plugin that adds them is missing. Short ones (``-n``) name no plugin and are left out."""
    seen: dict[str, None] = {}
    for match in _unrecognised(log_lines):
        for argument in match.group("args").split():
            if argument.startswith("--") and len(argument) > 2:
                seen.setdefault(argument.split("=", 1)[0], None)
    return list(seen)


def _unrecognised(log_lines: list[str]) -> list[re.Match[str]]:
    tail = _tail(log_lines)
    if not any(_PYTEST_USAGE.search(line) for line in tail):
        return []
    return [match for line in tail if (match := _UNRECOGNISED.match(line))]


def diagnose(
    view: RepoView, log_lines: list[str], cmd: str, tools: ToolIndex | None, installed: Collection[str] = ()
) -> Iterator[Diagnosis]:
    """A patch that declares the distributions of missing Python tools and pytest plugins, or an
    escalation that names what the build's environment lacks. ``installed``: canonical names of
    what the failing build installed (its ``pip freeze``)."""
    needs = [
        _Need(
            f"`{program}`", tools.resolve_command(program) if tools else None,
            f"`{program}` is not installed where the build runs, and no distribution on the package index has it as a "
            "console script: install it in the build's image or machine" + (_DOCKER_HINT if program in _DOCKER else ""),
            Category.ENVIRONMENT,
        )
        for program in missing_programs(log_lines)
        if not view.exists(view.in_build_dir(program))
    ]
    needs += [
        _Need(
            f"pytest's `{option}`", tools.resolve_pytest_option(option) if tools else None,
            f"pytest does not know `{option}`, and no pytest plugin on the package index named after it adds it: "
            "declare the plugin that does",
            Category.DEPENDENCY,
        )
        for option in missing_pytest_options(log_lines)
    ]
    if not needs:
        return
    evidence = [match.string for match in _not_found(log_lines) + _unrecognised(log_lines)][:5]
    sources = requirements_sources(view, cmd)
    source = sources[0] if sources else None
    text = (view.read(source) or "") if source else ""
    present = declared(source, text) if source else set()
    additions: list[str] = []
    problems: list[str] = []
    for need in needs:
        provider = need.provider
        if provider is None:
            problems.append(need.unprovided)
        elif canonicalize_name(provider.distribution) in installed:
            problems.append(
                f"the build installed {provider.distribution}, which provides {need.what}, yet does not find it: the tool runs "
                "outside the environment it installs into, or the plugin is disabled"
            )
        elif source is None:
            problems.append(f"{need.what} comes with {provider.distribution}, but the repository has no requirements source to declare it in")
        elif canonicalize_name(provider.distribution) in present:
            problems.append(f"{need.what} comes with {provider.distribution}, already declared in {source}: the install step may not run before it")
        elif (line := requirement_for(provider, text)) not in additions:
            additions.append(line)
    whats = ", ".join(need.what for need in needs)
    if additions and source is not None:
        yield Diagnosis(
            category=Category.DEPENDENCY,
            specialist=NAME,
            summary=f"add {', '.join(additions)} to {source} (the build needs {whats})",
            evidence=evidence,
            confidence=0.85,
            patch=declare(view, source, text, additions),
        )
        return
    python_tool = any(need.provider is not None or need.category == Category.DEPENDENCY for need in needs)
    yield Diagnosis(
        category=Category.DEPENDENCY if python_tool else Category.ENVIRONMENT,
        specialist=NAME,
        summary=f"the build needs {whats}, not installed where it builds",
        evidence=evidence,
        confidence=0.7,
        escalate_reason="; ".join(problems),
    )
