"""Harm done by what a patch takes away, judged against the base version.

Adding lines is not the only way to weaken a build: removing the step that runs the tests, the
``set -e`` that stops a script at the first failure, or the ``USER`` that kept an image off root does
the same harm with no added line to flag. These checks need the base version, so they stay silent
when the diff does not explain a file rather than guess.
"""

from __future__ import annotations

import re

from specialists.guardrail.diff import COMMENT, ChangedFile
from specialists.guardrail.paths import RUNS_COMMANDS, TEST_PATH
from specialists.guardrail.rules import format_finding

_RUNNER = re.compile(
    r"(?:^|[\s;&|(:\"'])(?:python\d*(?:\.\d+)?\s+-m\s+)?(pytest|py\.test|tox|nox|unittest|npm\s+(?:run\s+)?test|yarn\s+test|make\s+(?:test|check)"
    r"|go\s+test|cargo\s+test|mvn\s+\S*test|gradle\w*\s+test)\b"
)
_SET_E = re.compile(r"^\s*set\s+-[A-Za-z]*e|^\s*set\s+-o\s+errexit\b|^\s*SHELLFLAGS\s*[:+]?=.*-e|^\s*\.SHELLFLAGS")


def removal_findings(f: ChangedFile) -> list[str]:
    """Harm done by removing lines: the test step, ``set -e``."""
    if not f.old_known or not f.old or not RUNS_COMMANDS.search(f.path) or (TEST_PATH.search(f.path) and f.path.endswith(".py")):
        return []
    findings = []
    new_code = [ln.text for ln in f.lines if not ln.comment]
    old_code = [line for line in f.old.splitlines() if not COMMENT.match(line)]
    new_runners = {_runner_key(m) for line in new_code if not _installs(line) for m in _RUNNER.findall(line)}
    for number, text in f.removed:
        if COMMENT.match(text) or _installs(text):
            continue
        for runner in {_runner_key(m) for m in _RUNNER.findall(text)} - new_runners:
            findings.append(format_finding("tests-skipped", f.path, f"{number} (base version)", f"removes the step that runs {runner}", text))
            new_runners.add(runner)
        if _SET_E.search(text) and not any(_SET_E.search(line) for line in new_code) and any(_SET_E.search(line) for line in old_code):
            findings.append(format_finding("failure-masked", f.path, f"{number} (base version)", "removes exit-on-error", text))
    return findings


def _runner_key(match: str) -> str:
    return re.sub(r"\s+", " ", match.replace("py.test", "pytest"))


def _installs(line: str) -> bool:
    return bool(re.search(r"\b(?:install|add|uses|requirements|extras?|deps|dependencies)\b|==|>=", line))


def dockerfile_findings(f: ChangedFile) -> list[str]:
    """Running as root where the file said otherwise: the last stage's user went from non-root to root."""
    if not f.old_known or not f.old:
        return []
    old_user, _ = _final_user(f.old.splitlines())
    new_user, line = _final_user([ln.text for ln in f.lines], [ln.first for ln in f.lines])
    if _is_root(old_user) or not _is_root(new_user):
        return []
    if line is not None:
        return [format_finding("permissions-widened", f.path, line, f"runs the image as root where it ran as {old_user}", f"USER {new_user}")]
    removed = next((n for n, t in f.removed if re.match(r"\s*USER\s", t, re.I)), None)
    return [format_finding("permissions-widened", f.path, f"{removed} (base version)", f"drops USER {old_user}, so the image runs as root")]


def _final_user(lines: list[str], numbers: list[int] | None = None) -> tuple[str | None, int | None]:
    user, at = None, None
    for i, text in enumerate(lines):
        match = re.match(r"\s*(FROM|USER)\s+(\S+)", text, re.I)
        if not match:
            continue
        if match.group(1).upper() == "FROM":
            user, at = None, None
        else:
            user, at = match.group(2), (numbers[i] if numbers else i + 1)
    return user, at


def _is_root(user: str | None) -> bool:
    return user is None or user.split(":")[0] in ("root", "0")
