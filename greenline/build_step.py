"""What programs a build step runs: the commands of its shell line and, where it runs one of the
repository's scripts or a Makefile target, the commands of those, read without running anything."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

# Words that may stand before the program a shell command runs: wrappers and the shell's keywords.
_PREFIXES = {"sudo", "env", "time", "exec", "nohup", "command", "nice", "timeout", "xargs"}
_PREFIXES |= {"if", "then", "else", "elif", "while", "until", "do", "!", "{"}
_DURATION = re.compile(r"\d+(?:\.\d+)?[smhd]?")  # timeout 60s docker ...
_SHELLS = {"bash", "sh", "dash", "zsh", "ksh", "source", "."}
_MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
_DEPTH = 4  # scripts calling scripts, make targets calling make: how deep we read
_LARGEST = 1 << 18  # a script or Makefile bigger than this is not read
_RULE = re.compile(r"^([^\s:=#][^:=#]*?)\s*::?(?![=])\s*([^=]*)$")  # "target other: prereq prereq" (not "x := y")
_DOCKER = {"docker", "docker-compose"}
_MAKE_VARIABLE = re.compile(r"\$[({]MAKE[)}]")


def docker_call(cmd: str, workdir: Path | None = None) -> str | None:
    """Where the build step runs the docker CLI (``docker build``, ``docker compose``,
    ``docker-compose``), if it does: as a command of its own, past ``VAR=x`` and ``sudo``-like
    prefixes; with ``workdir`` (where the step runs), also inside the repository's scripts it
    runs (``./ci.sh``, ``bash scripts/build.sh``) and the Makefile targets it makes, with what
    those depend on. Nothing is run: the files are read, and only inside ``workdir``'s
    repository. Returns the docker command, and the file it is in when not the step's own."""
    for argv, source in programs(cmd, workdir):
        if os.path.basename(argv[0]) in _DOCKER:
            said = "`" + shlex.join(argv[:3]) + (" ...`" if len(argv) > 3 else "`")
            if source is None:
                return said
            base = workdir.resolve() if workdir is not None else None
            where = source.relative_to(base) if base is not None and source.is_relative_to(base) else source
            return f"{said} in {where}"
    return None


def programs(
    cmd: str, workdir: Path | None = None, *, source: Path | None = None, _depth: int = 0, _seen: set[object] | None = None
) -> Iterator[tuple[list[str], Path | None]]:
    """Each simple command the step runs (its words from the program on) with the file it is
    written in (``None``: the step itself), those of ``sh -c "..."``, and those of the scripts and
    Makefile targets it runs inside ``workdir`` too. Each script and target is read once."""
    seen: set[object] = set() if _seen is None else _seen
    here = workdir
    for argv in _commands(cmd):
        yield argv, source
        if _depth >= _DEPTH:
            continue
        program, args = argv[0], argv[1:]
        if program in _SHELLS and (inline := _inline(args)) is not None:
            yield from programs(inline, here, source=source, _depth=_depth + 1, _seen=seen)
        elif here is None:
            continue
        elif program == "cd" and args:
            here = here / args[0] if not args[0].startswith(("-", "~", "$")) else None
        elif program == "make":
            yield from _make(here, args, _depth, seen)
        elif (script := _script(here, program, args)) is not None and script not in seen:
            seen.add(script)
            text = _read(script)
            if text is not None:
                # A script runs where it was called from, wherever the file is.
                yield from programs(_join_continuations(text), here, source=script, _depth=_depth + 1, _seen=seen)


def _commands(text: str) -> Iterator[list[str]]:
    """The simple commands of shell text: split at ``&&``, ``||``, ``;``, ``|``, parentheses and
    newlines, comments left out, each from its program on."""
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:  # unbalanced quotes: bash will say so
            continue
        argv: list[str] = []
        for token in [*tokens, ";"]:
            if token and set(token) <= set("&|;()"):
                if argv:
                    yield argv
                argv = []
            elif argv:
                argv.append(token)
            elif not (token.startswith("-") or "=" in token or token in _PREFIXES or _DURATION.fullmatch(token)):
                argv = [token]


def _inline(args: list[str]) -> str | None:
    """The commands a shell is given to run with ``-c`` (``bash -ec "..."``), if it is."""
    for k, arg in enumerate(args):
        if not arg.startswith("-") or arg.startswith("--"):
            return None
        if "c" in arg:
            return args[k + 1] if k + 1 < len(args) else None
    return None


def _script(here: Path, program: str, args: list[str]) -> Path | None:
    """The repository file a command runs as a script, if it does: ``./ci.sh``, ``scripts/x``,
    ``bash ci.sh``, ``source env.sh``."""
    if program in _SHELLS:
        name = next((arg for arg in args if not arg.startswith("-")), None)
        if name is None:
            return None
    elif "/" in program:
        name = program
    else:
        return None
    return _inside(here, name)


def _inside(here: Path, name: str) -> Path | None:
    path = (here / name).resolve()
    root = here.resolve()
    while not (root / ".git").exists() and root.parent != root:
        root = root.parent
    if not (root / ".git").exists():
        root = here.resolve()
    return path if path.is_file() and path.is_relative_to(root) else None


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > _LARGEST:
            return None
        return path.read_text(errors="replace")
    except OSError:
        return None


def _join_continuations(text: str) -> str:
    return re.sub(r"\\\n", " ", text)


def _make(here: Path, args: list[str], depth: int, seen: set[object]) -> Iterator[tuple[list[str], Path | None]]:
    """The commands of the Makefile targets ``make args`` would make (the first target when none
    is named), with their prerequisites'. Variables are not expanded: ``$(DOCKER) build`` is not seen."""
    folder, makefile, goals = here, None, []
    words = iter(args)
    for word in words:
        if word in ("-C", "--directory"):
            folder = folder / next(words, ".")
        elif word in ("-f", "--file", "--makefile"):
            makefile = next(words, None)
        elif not word.startswith("-") and "=" not in word:
            goals.append(word)
    path = _inside(folder, makefile) if makefile else next((p for name in _MAKEFILES if (p := _inside(folder, name))), None)
    text = _read(path) if path is not None else None
    if path is None or text is None:
        return
    rules = _rules(_join_continuations(text))
    wanted = goals or [target for target in rules if "%" not in target][:1]  # the default goal: the first, not a pattern
    while wanted:
        target = wanted.pop()
        if (path, target) in seen or target not in rules:
            continue
        seen.add((path, target))
        prerequisites, recipe = rules[target]
        wanted.extend(prerequisites)
        for line in recipe:
            line = _MAKE_VARIABLE.sub("make", line.lstrip("@-+ \t"))  # "$(MAKE) -C sub": a recursive make
            yield from programs(line, folder, source=path, _depth=depth + 1, _seen=seen)


def _rules(text: str) -> dict[str, tuple[list[str], list[str]]]:
    """A Makefile's explicit rules: each target's prerequisites and recipe lines, in file order
    (special targets like ``.PHONY`` left out)."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("\t"):
            for target in current:
                rules[target][1].append(line[1:])
            continue
        match = _RULE.match(line)
        if match is None:
            if line.strip() and not line.lstrip().startswith("#"):
                current = []
            continue
        prerequisites = match[2].split("|")[0].split(";")[0].split()
        current = [target for target in match[1].split() if not target.startswith(".")]
        for target in current:
            rules.setdefault(target, ([], []))[0].extend(prerequisites)
    return rules
