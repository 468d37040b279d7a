"""Where a patch may reach: classifying paths as tests, in scope or out of it.

Tests are never in scope: a fix that makes the tests pass by changing them is no fix. By default a
repair may change only the files a broken build usually needs changed (dependency manifests and
locks, env/config files, Dockerfiles, Terraform, CI configuration); the repository's
``.greenline.toml`` may widen or replace that list but can never open tests or itself. The other
patterns here name the kinds of file whose lines run commands, which the line and removal rules need
to tell a build step from prose.
"""

from __future__ import annotations

import re

from models.policy import Policy

OUT_OF_SCOPE = "is outside the paths a repair may change (manifests, env/config, Dockerfiles, Terraform, CI config)"

# Test files and test-runner configuration, in Python and JS layouts; never in scope.
TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|testing|__tests__|spec)/|(?:^|/)(?:test_[^/]*|[^/]*_test|[^/]*_tests|conftest)\.py$"
    r"|(?:^|/)(?:pytest\.ini|\.pytest\.ini|tox\.ini|noxfile\.py)$|(?:^|/)[^/]*\.(?:test|spec)\.[cm]?[jt]sx?$"
)
# pytest's default ``python_files``: a test moved to another name is no longer collected.
COLLECTED_TEST = re.compile(r"(?:^|/)(?:test_[^/]*|[^/]*_test)\.py$")
# Files a repair may change by default: dependency manifests and lock files, env/config files,
# Dockerfiles, Terraform, CI configuration, tool-version pins.
_DEFAULT_SCOPE = re.compile(
    r"(?:^|/)(?:requirements[^/]*\.(?:txt|in)|constraints[^/]*\.txt|pyproject\.toml|setup\.cfg|Pipfile(?:\.lock)?|[^/]*\.lock|"
    r"go\.(?:mod|sum)|Gemfile|package(?:-lock)?\.json|\.npmrc|\.yarnrc(?:\.yml)?|\.python-version|\.tool-versions|\.nvmrc|runtime\.txt|"
    r"\.env(?:\.[\w-]+)?|[\w.-]+\.env|[\w.-]*\.(?:ini|cfg|conf|ya?ml|toml|json|hcl)|Jenkinsfile|"
    r"Dockerfile[^/]*|[^/]*\.dockerfile|\.dockerignore|[^/]*\.tf|[^/]*\.tfvars|\.github/workflows/[^/]+|\.gitlab-ci\.yml)$"
)
# The policy itself: a repair that could edit it could widen its own scope.
POLICY_FILE = ".greenline.toml"
DOCKERFILE = re.compile(r"(?:^|/)(?:Dockerfile[^/]*|[^/]*\.dockerfile|Containerfile)$")
MAKEFILE = re.compile(r"(?:^|/)(?:GNUmakefile|[Mm]akefile|[^/]*\.mk)$")
# Files whose lines run commands: CI definitions, task runners, scripts, container builds.
RUNS_COMMANDS = re.compile(
    r"(?:^|/)(?:[^/]*\.ya?ml|[Mm]akefile|GNUmakefile|[^/]*\.mk|[^/]*\.sh|tox\.ini|noxfile\.py|Jenkinsfile|package\.json|justfile|Taskfile[^/]*)$"
    r"|" + DOCKERFILE.pattern
)


def in_scope(path: str, policy: Policy) -> bool:
    """May a repair change ``path`` under ``policy``? (Tests never; the policy file never.)"""
    if TEST_PATH.search(path) or path == POLICY_FILE:
        return False
    if any(_glob(g).fullmatch(path) for g in policy.allowed_paths):
        return True
    if policy.scope == "replace":
        return False
    return bool(_DEFAULT_SCOPE.search(path)) or policy.allow_source_changes


def _glob(pattern: str) -> re.Pattern[str]:
    """``**`` spans folders, ``*`` and ``?`` stay inside one; no ``/``: the name in any folder."""
    if "/" not in pattern:
        pattern = "**/" + pattern
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))
