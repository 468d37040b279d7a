"""COPY/ADD of a path the build context does not have (a typo, a file or folder moved): point the
instruction at the path of the context it most likely meant."""

from __future__ import annotations

from models import Diagnosis
from specialists.dockerfile.case import Case
from specialists.dockerfile.context import has_wildcards
from specialists.dockerfile.syntax import Token, replace_tokens

_MOVED = 0.85
_RESPELT = 0.7
_AMBIGUOUS = 0.02  # two candidates this close in score: no way to tell which was meant


def fix(case: Case) -> Diagnosis | None:
    failed = [(step, ins) for step, ins in case.failures if ins is not None and ins.keyword in ("COPY", "ADD")]
    if not failed:
        return None
    replacements: dict[Token, str] = {}
    notes: list[str] = []
    problems: list[str] = []
    evidence: list[str] = []
    moved_only = True
    for step, ins in failed:
        evidence.extend([ins.echo, *step.errors[-2:]])
        flags, words = ins.split_flags()
        if "from" in flags:
            problems.append(f"`{ins.echo}` copies from {flags['from']}, whose files the repository does not show")
            continue
        if len(words) < 2 or "<<" in ins.args:
            continue
        for token in words[:-1]:
            source = token.value
            if "://" in source or source.startswith("git@") or case.context.exists(source):
                continue
            if "$" in source:
                problems.append(f"{source} depends on a build argument; its value decides which path is missing")
            elif case.context.excluded_by_ignore(source):
                problems.append(f"{source} is in the repository but {case.context.ignore_file} keeps it out of the build context")
            elif has_wildcards(source):
                problems.append(f"no path of the build context matches {source}")
            else:
                choice = _choose(case, source, problems)
                if choice is not None:
                    new, moved = choice
                    replacements[token] = new
                    moved_only = moved_only and moved
                    notes.append(f"{source} -> {new}" + (" (moved)" if moved else ""))
    if not replacements and not problems:
        return None
    where = f"the build context ({case.context.root or 'the repository root'})"
    if problems:
        return case.escalate(
            f"{case.path}: COPY/ADD of paths missing from {where}",
            evidence,
            "; ".join(problems) + (f" (would fix: {', '.join(notes)})" if notes else ""),
            confidence=0.7,
        )
    return case.patched(
        f"{case.path}: COPY/ADD source missing from {where}: {', '.join(notes)}",
        evidence,
        _MOVED if moved_only else _RESPELT,
        replace_tokens(case.dockerfile.text, replacements),
    )


def _choose(case: Case, source: str, problems: list[str]) -> tuple[str, bool] | None:
    """The context path ``source`` most likely meant, written in the source's own style."""
    want_dir = True if source.endswith("/") else None
    matches = case.context.closest(source, want_dir)
    if not matches:
        problems.append(f"{source} is not in the build context and no path there resembles it")
        return None
    best = matches[0]
    if len(matches) > 1 and matches[1].score > best.score - _AMBIGUOUS:
        problems.append(f"{source} is not in the build context; {best.path} and {matches[1].path} are equally likely")
        return None
    new = best.path
    if source.startswith("./"):
        new = "./" + new
    elif source.startswith("/"):
        new = "/" + new
    if source.endswith("/") and best.is_dir:
        new += "/"
    return new, best.moved
