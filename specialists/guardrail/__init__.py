"""The guardrail reviewer: every patch, whatever engine made it, is vetted before it is applied.

``review(patch, *, policy=None, base=None) -> ReviewVerdict`` accepts a patch or refuses it with one
finding per problem, each naming a stable rule id from ``RULES`` (documented in docs/policy.md;
``rule_of`` reads it back) and the offending line, redacted; ``in_scope`` says whether a repair may
change a path under a repository's policy. This package re-exports that public API from small modules
named by role: ``review`` (the entry point), ``diff`` (what changed), ``paths`` (scope and test
paths), ``suite``, ``python_suite`` and ``pytest_config`` (what a change does to the tests),
``line_rules`` and ``lines`` (added lines), ``secret_lines`` (secrets in added lines), ``removals``
(harm done by removing lines) and ``rules`` (rule ids and how findings read).
"""

from specialists.guardrail.paths import OUT_OF_SCOPE, in_scope
from specialists.guardrail.review import review
from specialists.guardrail.rules import RULES, rule_of

__all__ = ["OUT_OF_SCOPE", "RULES", "in_scope", "review", "rule_of"]
