"""Judging a change to the test suite: say as precisely as possible what it does to the tests.

A repair may never change tests, so every touched test file is refused; what this module adds is
the reason, because "removes test_login" helps more than "a test file changed". A deleted or emptied
file names the tests it held and, when its content reappears in a file pytest does not collect,
where it went; Python test files and pytest ini files are compared by ``python_suite`` and
``pytest_config``; anything else is refused as ``tests-touched``. (This module and
``python_suite`` avoid names like ``test_*.py`` or ``*_tests.py``, which pytest or
``paths.TEST_PATH`` would take for test files.)
"""

from __future__ import annotations

import difflib

from specialists.guardrail.diff import ChangedFile
from specialists.guardrail.paths import COLLECTED_TEST
from specialists.guardrail.pytest_config import config_findings
from specialists.guardrail.python_suite import py_tests, python_test_findings


def test_file_findings(f: ChangedFile, files: list[ChangedFile]) -> list[str]:
    """Why the change to test file ``f`` is refused; ``files`` are all the patch changes."""
    findings: list[str] = []
    if f.new is None or (f.old and not f.new.strip()):
        what = "deleted" if f.new is None else "emptied"
        moved = _moved_to(f, files)
        tests = py_tests(f.old).tests if f.old and f.path.endswith(".py") else {}
        names = f", losing {', '.join(sorted(tests))}" if tests else ""
        where = f"; its content reappears in {moved}, where pytest does not collect it" if moved else ""
        findings.append(f"tests-deleted: {f.path} is {what} by the patch{names}{where}")
        return findings
    if f.path.endswith(".py"):
        findings.extend(python_test_findings(f, files))
    elif f.path.endswith(".ini"):
        findings.extend(config_findings(f))
    return findings or [f"tests-touched: {f.path} is a test file or test configuration; a fix may not change tests"]


def _moved_to(f: ChangedFile, files: list[ChangedFile]) -> str | None:
    """A file the patch adds outside collected tests that holds the content of the removed one."""
    if not f.old:
        return None
    for other in files:
        if other.old is None and other.new and other.path != f.path and not COLLECTED_TEST.search(other.path):
            matcher = difflib.SequenceMatcher(None, f.old.splitlines(), other.new.splitlines())
            if matcher.quick_ratio() > 0.6 and matcher.ratio() > 0.6:
                return other.path
    return None
