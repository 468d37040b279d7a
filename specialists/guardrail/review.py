"""The review: every file a patch changes is judged on its path, then on its content.

``review`` is the guardrail's one entry point; the review activity calls it on every patch. The
repository's policy decides only which paths a repair may change: it never switches a rule off, and
tests are never in scope. Path findings come first, then content findings (added lines, pytest
configuration, removed lines, the Dockerfile's user); duplicates are dropped but the order is kept,
so the verdict reads file by file. Callers that can read the base commit should pass ``base``: the
base rebuilt from the patch's own diff is only as honest as that diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from models import Patch, ReviewVerdict
from models.policy import Policy
from specialists.guardrail.diff import ChangedFile, changed_files
from specialists.guardrail.lines import added_line_findings
from specialists.guardrail.paths import DOCKERFILE, OUT_OF_SCOPE, POLICY_FILE, TEST_PATH, in_scope
from specialists.guardrail.pytest_config import config_findings
from specialists.guardrail.removals import dockerfile_findings, removal_findings
from specialists.guardrail.suite import test_file_findings


def review(patch: Patch, *, policy: Policy | None = None, base: Mapping[str, str | None] | None = None) -> ReviewVerdict:
    """Accept ``patch`` or refuse it with one finding per problem.

    ``policy`` is the repository's ``.greenline.toml`` (defaults: the safe policy); ``base`` maps
    touched paths to their content at the base commit (``None``: the file did not exist).
    """
    policy = policy or Policy()
    files = changed_files(patch, base)
    findings: list[str] = []
    for f in files:
        findings.extend(_path_findings(f, policy, files))
    for f in files:
        findings.extend(_content_findings(f))
    unique = list(dict.fromkeys(findings))
    return ReviewVerdict(patch_id=patch.id, accepted=not unique, findings=unique)


def _path_findings(f: ChangedFile, policy: Policy, files: list[ChangedFile]) -> list[str]:
    path = f.path
    pure = PurePosixPath(path)
    if path.startswith("/") or ".." in pure.parts or "\\" in path:
        return [f"out-of-scope: {path} leaves the repository"]
    if not pure.parts or path == POLICY_FILE or pure.parts[0] == ".git":
        return [f"out-of-scope: {path} is Greenline's policy or git's own data; a repair may never change it"]
    if TEST_PATH.search(path):
        return test_file_findings(f, files)
    if not in_scope(path, policy):
        if policy.scope == "replace":
            return [f"out-of-scope: {path} is outside the paths this repository's policy allows ({', '.join(policy.allowed_paths) or 'none'})"]
        return [f"out-of-scope: {path} {OUT_OF_SCOPE}"]
    return []


def _content_findings(f: ChangedFile) -> list[str]:
    if f.new is None:
        return removal_findings(f)
    findings = added_line_findings(f)
    if not TEST_PATH.search(f.path):
        config = config_findings(f)
        if not any(x.startswith(f"tests-skipped: {f.path}:") for x in findings):
            findings.extend(config)
    findings.extend(removal_findings(f))
    if DOCKERFILE.search(f.path):
        findings.extend(dockerfile_findings(f))
    return findings
