"""Build tools specialist: the build step runs a program that is not installed where it builds
(``bash: line 1: black: command not found``, dash's ``sh: 1: tox: not found``).

A Python tool is the console script of a distribution on the package index (``black``,
``tox``, ``sphinx-build`` of Sphinx): that distribution goes into the requirements the build
installs, as a missing import's would. Any other program (``docker``, ``make``, ``node``)
escalates, naming what is missing: it belongs to the build's image or machine, not to the
repository."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator

from packaging.utils import canonicalize_name

from models import Category, Diagnosis
from specialists.python_deps import Provider, declare, declared, requirement_for, requirements_sources
from specialists.repo_view import RepoView

NAME = "build-tools"

# Given a program's name, the distribution on the build's index whose console script it is.
ResolveCommand = Callable[[str], Provider | None]

# bash ("bash: line 1: x: command not found", "./ci.sh: line 4: x: command not found"), dash and
# busybox ("/bin/sh: 1: x: not found", "./ci.sh: 4: x: not found"), zsh ("zsh: command not
# found: x"). Without a line number, only a shell's own name may come first ("ERROR: x: not
# found" is not the shell's). The name is a bare word: a path that is not there ("./run.sh") is
# the repository's own business.
_NOT_FOUND = re.compile(
    r"^(?:\S+: (?:line \d+|\d+)|(?:\S*/)?(?:ba|da|k|z)?sh): (?P<a>[\w.+-]+): (?:command )?not found\s*$"
    r"|^(?:\S*/)?zsh: command not found: (?P<b>[\w.+-]+)\s*$"
)


_TAIL = 20  # the last lines of the log where a missing program ended the build

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
    """The shell's "not found" lines among the last of the log: what ended the build (``a && b``
    stops at the missing one; one missed long before, with ``a; b``, is not why it failed)."""
    tail = [line.strip() for line in log_lines if line.strip()][-_TAIL:]
    return [match for line in tail if (match := _NOT_FOUND.match(line))]


def diagnose(
    view: RepoView, log_lines: list[str], cmd: str, resolve: ResolveCommand | None, installed: Collection[str] = ()
) -> Iterator[Diagnosis]:
    """A patch that declares the distributions of missing Python tools, or an escalation that
    names the programs the build's environment lacks. ``installed``: canonical names of what
    the failing build installed (its ``pip freeze``)."""
    programs = [p for p in missing_programs(log_lines) if not view.exists(view.in_build_dir(p))]
    if not programs:
        return
    evidence = [match.string for match in _not_found(log_lines)][:5]
    providers = {program: resolve(program) if resolve else None for program in programs}
    sources = requirements_sources(view, cmd)
    source = sources[0] if sources else None
    text = (view.read(source) or "") if source else ""
    present = declared(source, text) if source else set()
    additions: list[str] = []
    problems: list[str] = []
    for program, provider in providers.items():
        if provider is None:
            problems.append(
                f"`{program}` is not installed where the build runs, and no distribution on the package index has it as a "
                "console script: install it in the build's image or machine" + (_DOCKER_HINT if program in _DOCKER else "")
            )
        elif canonicalize_name(provider.distribution) in installed:
            problems.append(f"the build installed {provider.distribution}, whose script `{program}` is, yet does not find it: it runs outside the environment it installs into")
        elif source is None:
            problems.append(f"`{program}` comes with {provider.distribution}, but the repository has no requirements source to declare it in")
        elif canonicalize_name(provider.distribution) in present:
            problems.append(f"`{program}` comes with {provider.distribution}, already declared in {source}: the install step may not run before it")
        else:
            additions.append(requirement_for(provider, text))
    names = ", ".join(f"`{p}`" for p in programs)
    if additions and source is not None:
        yield Diagnosis(
            category=Category.DEPENDENCY,
            specialist=NAME,
            summary=f"add {', '.join(additions)} to {source} (the build runs {names}, its console script{'s' if len(additions) > 1 else ''})",
            evidence=evidence,
            confidence=0.85,
            patch=declare(view, source, text, additions),
        )
        return
    python_tool = any(provider is not None for provider in providers.values())
    yield Diagnosis(
        category=Category.DEPENDENCY if python_tool else Category.ENVIRONMENT,
        specialist=NAME,
        summary=f"the build runs {names}, which {'is' if len(programs) == 1 else 'are'} not installed where it builds",
        evidence=evidence,
        confidence=0.7,
        escalate_reason="; ".join(problems),
    )
