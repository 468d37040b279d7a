"""Triage: which kind of failure a build has, on what evidence, before any specialist runs.

Two sources, in this order of trust:
- per-test results (JUnit XML): which tests failed and each one's failure message. Failing
  tests whose messages do not point at drift (a missing module, a missing variable) are rerun
  to tell ``flaky`` / ``order-dependent`` / ``logic`` apart (``specialists.flaky``);
- the log's error lines, matched against each category's vocabulary; the category of the
  failure that ended the build wins (a retried download early in the log that later succeeded
  says nothing about a test failure at its end).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from models import BuildResult, Category
from models.triage import Triage
from specialists.logs import error_lines


@dataclass(frozen=True)
class _Signal:
    category: Category
    pattern: re.Pattern[str]
    weight: float


def _signal(category: Category, pattern: str, weight: float = 1.0) -> _Signal:
    return _Signal(category, re.compile(pattern, re.IGNORECASE), weight)


# Each category's words, as tools print them. Weights rank how sure a single line makes us.
_SIGNALS = [
    # Network trouble that a retry may cure: timeouts, resets, DNS hiccups, 5xx, rate limits.
    _signal(
        Category.INFRA_TRANSIENT,
        r"read timed out|ReadTimeout(?:Error)?\b|ConnectTimeout(?:Error)?\b|connection timed out|timed out while"
        r"|connection (?:reset|aborted)|ECONNRESET|ETIMEDOUT|EAI_AGAIN|temporary failure in name resolution"
        r"|TLS handshake timeout|i/o timeout|RemoteDisconnected|IncompleteRead|connection broken"
        r"|\b(?:502|503|504) (?:Bad Gateway|Service Unavailable|Gateway Time-?out)|HTTP (?:error )?(?:502|503|504)\b"
        r"|\b429\b.*too many requests|too many requests|rate limit(?:ed| exceeded)?|toomanyrequests"
        r"|server error.*\b5\d\d\b|\b5\d\d Server Error"
        # pip 24.1+'s own words: "error: connection-timeout", "x didn't respond within 1.0 seconds".
        r"|error: (?:connection-timeout|incomplete-download)\b|didn't respond within|closed without a reply",
        2.0,
    ),
    # Dependencies: imports of third-party modules, resolver and version errors.
    _signal(
        Category.DEPENDENCY,
        r"ModuleNotFoundError|No module named|ImportError: cannot import name|ResolutionImpossible"
        r"|conflicting dependencies|requires a different Python|Could not find a version that satisfies"
        r"|No matching distribution found|VersionConflict|DistributionNotFound|incompatible versions?"
        r"|has no attribute .*(?:module|version)|pip's dependency resolver",
        2.0,
    ),
    # Environment and configuration: variables, config files, services not there.
    _signal(
        Category.ENVIRONMENT,
        r"KeyError: '[A-Z][A-Z0-9_]+'|environment variable|\b[A-Z][A-Z0-9_]{2,} (?:is not set|must be set|is required|not set)"
        r"|ValidationError.*[Ss]ettings|Field required|FileNotFoundError: .*\.(?:env|ini|cfg|conf|toml|ya?ml|json)\b"
        r"|Connection refused|could not connect to server|No such file or directory: .*(?:config|settings|\.env)",
        1.5,
    ),
    _signal(
        Category.DOCKER,
        r"failed to solve|ERROR: failed to build|returned a non-zero code|COPY failed|failed to compute cache key"
        r"|ERROR \[[^\]]*\d+/\d+\]|manifest for \S+ not found|pull access denied|externally-managed-environment"
        r"|Unable to locate package|Dockerfile",
        2.0,
    ),
    _signal(
        Category.TERRAFORM,
        r"^[│|]?\s*Error: .*(?:provider|resource|terraform|Invalid|Unsupported|reference|state|plan)"
        r"|terraform|\.tf line \d+|Error acquiring the state lock",
        2.0,
    ),
]
# pip says "no matching distribution" when its downloads failed: the network, not the pin.
_NOT_FOUND_AFTER_NETWORK = re.compile(r"Could not find a version that satisfies|No matching distribution found", re.IGNORECASE)
_FINAL_BLOCK = 40
_ASSERTION_LINE = re.compile(r"^E\s+(?:AssertionError|assert\b)|^FAILED .*(?:AssertionError|assert)|^AssertionError")
_ASSERTION = re.compile(r"\bAssert|\bassert\b|\bExpected\b|\bexpected\b|!=|==")


def classify(lines: Sequence[str], build: BuildResult) -> Triage:
    """The category of a failing build, its confidence and evidence, and whether its failing
    tests need reruns to be told apart."""
    tests = build.tests
    failing = [t for t in (tests.executed_ids if tests else []) if tests and t in tests.failed_ids]
    if tests and failing and not tests.collection_errors:
        messages = [f"{t}: {tests.failure_messages.get(t, '')}".rstrip(": ") for t in failing]
        drift = _drift_in_test_messages([tests.failure_messages.get(t, "") for t in failing])
        if drift is not None:
            return Triage(
                category=drift,
                confidence=0.8,
                summary=f"{len(failing)} test(s) fail on {drift.value} drift, not on an assertion",
                evidence=messages[:8],
                failing_tests=failing,
            )
        return Triage(
            category=Category.LOGIC,
            confidence=0.5,
            summary=f"{len(failing)} test(s) fail; reruns tell flaky, order-dependent and logic apart",
            evidence=messages[:8],
            failing_tests=failing,
            rerun_tests=True,
        )
    return _from_log(list(lines), build)


def _from_log(lines: list[str], build: BuildResult) -> Triage:
    found = error_lines(lines)
    # Scan error lines and the few around them (pip's retry warnings are not "errors").
    candidates = sorted({j for i in found for j in range(max(0, i - 3), min(len(lines), i + 2))} | set(_warning_lines(lines)))
    hits: list[tuple[int, _Signal]] = []
    for i in candidates:
        for signal in _SIGNALS:
            if signal.pattern.search(lines[i]):
                hits.append((i, signal))
    # The failure that ended the build is the last error block: only categories seen in it
    # count; earlier lines (a download retried and then fine) only add weight.
    end = found[-1] if found else len(lines) - 1
    final = {signal.category for i, signal in hits if end - i < _FINAL_BLOCK}
    if not final:
        return _unmatched(lines, found, build)
    scores: dict[Category, float] = {}
    for i, signal in hits:
        if signal.category in final:
            scores[signal.category] = scores.get(signal.category, 0.0) + signal.weight * (1.0 if end - i < _FINAL_BLOCK else 0.25)
    transient = scores.get(Category.INFRA_TRANSIENT, 0.0)
    if transient and any(_NOT_FOUND_AFTER_NETWORK.search(lines[i]) for i, _ in hits if end - i < _FINAL_BLOCK):
        scores[Category.INFRA_TRANSIENT] = transient + scores.pop(Category.DEPENDENCY, 0.0)
    category = max(scores, key=lambda c: scores[c])
    total = sum(scores.values())
    evidence = [lines[i].strip()[:300] for i, signal in hits if signal.category == category]
    return Triage(
        category=category,
        confidence=round(min(0.95, 0.5 + 0.45 * scores[category] / total), 3),
        summary=_SUMMARIES[category],
        evidence=_unique(evidence)[-6:],
    )


def _unmatched(lines: list[str], found: list[int], build: BuildResult) -> Triage:
    assertions = [line.strip() for line in lines[-200:] if _ASSERTION_LINE.search(line)]
    if assertions:
        return Triage(category=Category.LOGIC, confidence=0.4, summary="a test assertion fails (no per-test results to rerun it)", evidence=assertions[-5:])
    if build.timed_out:
        return Triage(category=Category.UNKNOWN, confidence=0.3, summary=f"the build timed out after {build.duration_s:.0f}s with no error line", evidence=[line for line in lines[-3:] if line.strip()])
    evidence = [lines[i].strip() for i in found][-5:] or [line.strip() for line in lines if line.strip()][-3:]
    return Triage(category=Category.UNKNOWN, confidence=0.2, summary="no category's vocabulary matches the failure", evidence=evidence)


def _warning_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if "WARNING" in line or "Retrying" in line or "warning:" in line]


def _drift_in_test_messages(messages: list[str]) -> Category | None:
    """A category every failing test's message points at (drift, not an assertion), if any."""
    categories = set()
    for message in messages:
        if not message or _ASSERTION.search(message):
            return None
        matched = next((s.category for s in _SIGNALS if s.category in _DRIFT and s.pattern.search(message)), None)
        if matched is None:
            return None
        categories.add(matched)
    return categories.pop() if len(categories) == 1 else None


_DRIFT = {Category.DEPENDENCY, Category.ENVIRONMENT}
_SUMMARIES = {
    Category.INFRA_TRANSIENT: "a network or registry failure that a retry may cure (timeout, reset, 5xx, rate limit)",
    Category.DEPENDENCY: "a dependency problem: a module missing, a version conflict or an incompatible release",
    Category.ENVIRONMENT: "an environment problem: a variable, config file or service the build expects is missing",
    Category.DOCKER: "a docker image build step failed",
    Category.TERRAFORM: "terraform failed",
}


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
