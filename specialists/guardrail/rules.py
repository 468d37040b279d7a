"""The guardrail's rules and how its findings read.

A finding is one line, ``"<rule>: <path>:<line> <reason>: <the line, redacted>"``, so a person can
act on it and a program can group it by rule (``rule_of``). The rule ids in ``RULES`` are stable:
docs/policy.md documents them, bench/guardrail counts by them and the repair workflow shows them to
users, so add rules but never rename one. Findings that quote a line go through ``format_finding``,
which redacts the line, so a rule that fires on a secret cannot echo it back into the verdict.
"""

from __future__ import annotations

from specialists import redact as _redact

RULES: dict[str, str] = {
    "out-of-scope": "the patch touches a path the repository's policy does not let a repair change",
    "tests-touched": "the patch changes tests or test configuration",
    "tests-deleted": "tests deleted, emptied or renamed away",
    "tests-skipped": "tests skipped, xfailed or deselected (markers, pytest.skip, -k/-m/--deselect/--ignore, testpaths, collection hooks)",
    "assertions-weakened": "assertions removed, changed or made unreachable; pytest.raises widened",
    "failure-masked": "a build step made to ignore failure (|| true, set +e, continue-on-error, allow_failure, ...)",
    "hooks-bypassed": "commit or pre-commit hooks bypassed (--no-verify, HUSKY=0, ...)",
    "permissions-widened": "permissions widened (chmod 777/o+w, --privileged, running as root, cap_add, ...)",
    "tls-disabled": "TLS, host key or signature checks disabled",
    "remote-code": "remote code piped to a shell or interpreter (curl | sh, bash <(curl ...), ...)",
    "package-source-added": "a new package index, repository, registry or direct-URL dependency",
    "secret-written": "a secret (token, key, password, private key) written into a file",
    "exposure-widened": "infrastructure exposed (ingress from 0.0.0.0/0, public ACLs/buckets, IAM wildcards)",
}


def format_finding(rule: str, path: str, line: int | str | None, reason: str, text: str = "") -> str:
    """``<rule>: <path>:<line> <reason>: <text>``, the text redacted and cut short."""
    where = f"{path}:{line}" if line is not None else path
    shown = f": {_redact.redact(text.strip())[:120]}" if text.strip() else ""
    return f"{rule}: {where} {reason}{shown}"


def rule_of(finding: str) -> str:
    """The rule id a finding starts with."""
    return finding.split(":", 1)[0]
