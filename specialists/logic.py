"""Logic errors: a test assertion that fails in the project's own code. The rule playbooks never
change source code; they escalate with what a developer needs first: the failing test, the
assertion, and the project function it points at."""

from __future__ import annotations

import re
from collections.abc import Sequence

from models import Category, Diagnosis, TestReport

_ASSERTION = re.compile(r"^E\s+(?:AssertionError|assert\b)|^FAILED .*(?:AssertionError|assert)")
# Frames as pytest prints them (``app/calc.py:3: in add``) and as Python does.
_PYTEST_FRAME = re.compile(r"^([\w./-]+\.py):(\d+): in (\w+)")
_PYTHON_FRAME = re.compile(r'^\s*File "([^"]+\.py)", line (\d+), in (\w+)')
_WHERE_CALL = re.compile(r"\+\s+where .*? = ([A-Za-z_][\w.]*)\(")
_ASSERT_CALL = re.compile(r"^>\s+assert\b.*?\b([A-Za-z_][\w.]*)\(")
_NOT_PROJECT = re.compile(r"(?:^|/)(?:site-packages|dist-packages|lib/python\d[\d.]*|_pytest|pluggy)/|(?:^|/)(?:tests?/|test_[^/]*\.py$|[^/]*_test\.py$|conftest\.py$)")
_BUILTINS = {"len", "str", "int", "float", "list", "dict", "set", "tuple", "sorted", "isinstance", "type", "repr", "any", "all", "sum", "min", "max"}


def diagnose(lines: Sequence[str], tests: TestReport | None) -> Diagnosis | None:
    """The logic-error escalation, or ``None`` when no assertion fails."""
    assertions = [line.strip() for line in lines if _ASSERTION.search(line)]
    if not assertions:
        return None
    failing = tests.failed_ids[0] if tests and tests.failed_ids else None
    where = project_function(lines)
    facts = []
    if failing:
        facts.append(f"test {failing}")
    if where:
        facts.append(f"it points at {where}")
    detail = f" ({'; '.join(facts)})" if facts else ""
    return Diagnosis(
        category=Category.LOGIC,
        specialist="logic",
        summary=f"a test assertion fails deterministically in the project's own code{detail}",
        evidence=assertions[:6],
        confidence=0.6,
        escalate_reason=f"logic error: a test assertion fails; the rule playbooks do not change source code. {assertions[0][:200]}{detail}",
    )


def project_function(lines: Sequence[str]) -> str | None:
    """The innermost frame in the project's own code (not tests, not libraries), else the
    function the failing assertion calls."""
    frames = []
    for line in lines:
        match = _PYTEST_FRAME.match(line) or _PYTHON_FRAME.match(line)
        if match and not _NOT_PROJECT.search(match.group(1)):
            frames.append(f"{match.group(3)}() in {match.group(1)}:{match.group(2)}")
    if frames:
        return frames[-1]
    for pattern in (_WHERE_CALL, _ASSERT_CALL):
        for line in lines:
            match = pattern.search(line)
            if match and match.group(1) not in _BUILTINS:
                return f"{match.group(1)}()"
    return None
