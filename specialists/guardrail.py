"""The guardrail reviewer: every patch, whatever engine made it, is vetted before it is applied.

This is the minimal reviewer of the spine: a fix may never touch tests, may never make a build
step ignore failure, and stays inside the paths a repair may change.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from models import Patch, ReviewVerdict

_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|testing|__tests__|spec)/|(?:^|/)(?:test_[^/]*|[^/]*_test|[^/]*_tests|conftest)\.py$|(?:^|/)(?:pytest\.ini|tox\.ini|noxfile\.py)$")
# Files a repair may change by default: dependency manifests, env/config files, Dockerfiles,
# Terraform, CI configuration.
_IN_SCOPE = re.compile(
    r"(?:^|/)(?:requirements[^/]*\.(?:txt|in)|constraints[^/]*\.txt|pyproject\.toml|setup\.cfg|Pipfile|"
    r"\.env(?:\.[\w-]+)?|[\w.-]+\.env|[\w.-]*\.(?:ini|cfg|conf|ya?ml|toml|json)|"
    r"Dockerfile[^/]*|[^/]*\.dockerfile|\.dockerignore|[^/]*\.tf|[^/]*\.tfvars|\.github/workflows/[^/]+|\.gitlab-ci\.yml)$"
)
_IGNORE_FAILURE = re.compile(r"\|\|\s*(?:true|:|exit 0)\b|\bset \+e\b|continue-on-error:\s*true|allow_failure:\s*true|--no-verify\b")
_SKIP = re.compile(r"pytest\.mark\.(?:skip|xfail)|\bpytest\.skip\(|unittest\.skip|--deselect\b|--ignore\b|-k\s+['\"]?not\b")


def review(patch: Patch) -> ReviewVerdict:
    findings: list[str] = []
    for change in patch.changes:
        path = PurePosixPath(change.path).as_posix()
        if _TEST_PATH.search(path):
            findings.append(f"tests-touched: {path} is a test file or test configuration; a fix may not change tests")
        elif not _IN_SCOPE.search(path):
            findings.append(f"out-of-scope: {path} is outside the paths a repair may change (manifests, env/config, Dockerfiles, Terraform, CI config)")
    for number, line in _added_lines(patch.diff):
        if _IGNORE_FAILURE.search(line):
            findings.append(f"failure-masked: added line {number} makes a step ignore failure: {line.strip()[:120]}")
        if _SKIP.search(line):
            findings.append(f"tests-skipped: added line {number} skips or deselects tests: {line.strip()[:120]}")
    return ReviewVerdict(patch_id=patch.id, accepted=not findings, findings=findings)


def _added_lines(diff: str) -> list[tuple[int, str]]:
    added: list[tuple[int, str]] = []
    new_line = 0
    for line in diff.splitlines():
        if line.startswith("@@"):
            match = re.search(r"\+(\d+)", line)
            new_line = int(match.group(1)) if match else 0
        elif line.startswith("+") and not line.startswith("+++"):
            added.append((new_line, line[1:]))
            new_line += 1
        elif not line.startswith("-"):
            new_line += 1
    return added
