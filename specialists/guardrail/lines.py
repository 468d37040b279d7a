"""Judging each line a patch adds: the line rules, secrets, file modes and infrastructure exposure.

Only added lines are judged, so a repository that already does something risky can still be
repaired elsewhere. Comments escape the line rules (a commented ``|| true`` runs nothing) but not
secret detection (a token in a comment is still leaked). A line rule fires at most once per line, so
one bad line reads as one finding. Some harms need more than a pattern: a chmod mode must be decoded
to know whether others may write, and ``0.0.0.0/0`` is exposure only in an ingress rule, so those
are judged by code here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from specialists.guardrail.diff import ChangedFile, Line
from specialists.guardrail.line_rules import LINE_RULES
from specialists.guardrail.paths import TEST_PATH
from specialists.guardrail.pytest_config import PYTEST_CONTEXT, PYTEST_SECTION
from specialists.guardrail.python_suite import py_tests
from specialists.guardrail.rules import format_finding
from specialists.guardrail.secret_lines import secret_findings

# Lines of infrastructure definitions where a wildcard or an any-address range means exposure.
_ANY_ADDRESS = re.compile(r"(?<![\d.])0\.0\.0\.0/0\b|(?<![\w:])::/0\b")
_NOT_INGRESS = re.compile(r"(?i)egress|\broute\b|aws_route|destination|\bnat\b|outbound")
_WILDCARD = re.compile(r"['\"](?:\*|[\w-]+:\*)['\"]|^\s*-\s*['\"]?\*['\"]?\s*$|:\s*['\"]?\*['\"]?\s*,?\s*$")
_IAM_KEY = re.compile(r"(?i)^\s*['\"]?(not_?)?(actions?|resources?|verbs|apigroups|permissions)['\"]?\s*[:=]")
_KEY = re.compile(r"^\s*['\"]?[\w.-]+['\"]?\s*[:=]")
# ``"Action": ["s3:GetObject", "s3:*"]`` on one line (JSON policies, jsonencode, YAML flow lists).
_IAM_INLINE = re.compile(r"(?i)['\"]?(?:not_?)?(actions?|resources?|verbs|apigroups)['\"]?\s*[:=]\s*\[?\s*(?:['\"][^'\"\n]*['\"]\s*,\s*)*['\"](?:\*|[\w-]+:\*)['\"]")


def added_line_findings(f: ChangedFile) -> list[str]:
    """What the lines ``f`` adds do wrong; ``f`` is not deleted by the patch."""
    findings: list[str] = []
    python_test = TEST_PATH.search(f.path) and f.path.endswith(".py") and py_tests(f.new).parsed
    pytest_file = bool(re.search(r"(?:^|/)(?:pytest\.ini|\.pytest\.ini|tox\.ini)$", f.path))
    flagged: set[tuple[str, int]] = set()
    for line in f.lines:
        if not line.added:
            continue
        findings.extend(secret_findings(f.path, line))
        if line.comment:
            continue
        pytest_context = pytest_file or bool(PYTEST_CONTEXT.search(line.text)) or bool(PYTEST_SECTION.match(line.section))
        for rule in LINE_RULES:
            if (rule.rule, line.first) in flagged or (rule.pytest_only and not pytest_context):
                continue
            if python_test and rule.rule == "tests-skipped":
                continue  # judged on the syntax tree
            if rule.paths is not None and not rule.paths.search(f.path):
                continue
            if rule.pattern.search(line.text[:4000]):
                flagged.add((rule.rule, line.first))
                findings.append(format_finding(rule.rule, f.path, line.first, rule.reason, line.text))
        for reason in _infra_exposure(f, line):
            findings.append(format_finding("exposure-widened", f.path, line.first, reason, line.text))
        for rule, reason in _chmod(line.text):
            if (rule, line.first) not in flagged:
                flagged.add((rule, line.first))
                findings.append(format_finding(rule, f.path, line.first, reason, line.text))
    return findings


def _chmod(text: str) -> Iterator[tuple[str, str]]:
    """chmod and file modes that let others write, or set setuid/setgid; umask that does."""
    for match in re.finditer(r"\bchmod\b((?:\s+-{1,2}[\w-]+)*)\s+['\"]?([0-7]{3,4}|[ugoa]*[-+=][rwxXst]+(?:,[ugoa]*[-+=][rwxXst]+)*)['\"]?", text):
        if _mode_widens(match.group(2)):
            yield "permissions-widened", f"widens file permissions (chmod {match.group(2)})"
    for match in re.finditer(r"(?i)(?:\bchmod\(\s*[^,()]+,\s*|\b(?:file_permission|directory_permission|defaultMode|mode|permissions)['\"]?\s*[:=]\s*['\"]?)0o?([0-7]{3,4})\b", text):
        if _mode_widens(match.group(1)):
            yield "permissions-widened", f"widens file permissions (mode {match.group(1)})"
    for match in re.finditer(r"\bumask\s+0*([0-7]{1,3})\b", text):
        if int(match.group(1)[-1]) & 2 == 0:
            yield "permissions-widened", f"lets every user write new files (umask {match.group(1)})"


def _mode_widens(mode: str) -> bool:
    if mode.isdigit():
        digits = mode.zfill(4)
        return int(digits[3]) & 2 != 0 or int(digits[0]) & 6 != 0  # others may write; setuid/setgid
    for clause in mode.split(","):
        match = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if match and match.group(2) != "-":
            who, perms = match.group(1), match.group(3)
            if "s" in perms or ("w" in perms and set(who) & {"o", "a"}):
                return True
    return False


def _infra_exposure(f: ChangedFile, line: Line) -> Iterator[str]:
    if not re.search(r"\.(?:tf|tfvars|hcl|json|ya?ml)$", f.path):
        return
    if _ANY_ADDRESS.search(line.text):
        context = _enclosing(f, line, 12)
        if not _NOT_INGRESS.search(context):
            yield "opens ingress from any address"
    inline = _IAM_INLINE.search(line.text)
    if inline:
        yield f"grants a wildcard in IAM/RBAC {inline.group(1)}"
    elif _WILDCARD.search(line.text):
        key = _IAM_KEY.match(line.text) or _IAM_KEY.match(_enclosing_key(f, line))
        if key:
            yield f"grants a wildcard in IAM/RBAC {key.group(2)}"


def _enclosing(f: ChangedFile, line: Line, span: int) -> str:
    """The line with the lines above it up to the enclosing block's header, and the rest of
    its block below (``type = "egress"`` may come after the CIDR)."""
    index = line.index
    around = [line.text]
    for earlier in reversed(f.lines[max(0, index - span) : index]):
        around.append(earlier.text)
        if re.search(r"(?i)\b(?:resource|ingress|egress|route)\b|^\s*-\s*\w+\s*:|^\s*\w+\s*\{\s*$", earlier.text):
            break
    for later in f.lines[index + 1 : index + 1 + span]:
        if re.match(r"\s*\}|\s*resource\b", later.text):
            break
        around.append(later.text)
    return "\n".join(around)


def _enclosing_key(f: ChangedFile, line: Line) -> str:
    index = line.index
    for earlier in reversed(f.lines[max(0, index - 10) : index]):
        if _KEY.match(earlier.text):
            return earlier.text
    return ""
