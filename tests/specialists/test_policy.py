"""The repair policy: safe defaults, a validated .greenline.toml, errors that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import Budget, Category, Policy, PolicyBudget
from specialists.policy import PolicyError, load_policy, parse_policy

FULL = '''
allowed_paths = ["scripts/ci/*.sh", "config/**"]
scope = "extend"
approvers = ["alice@example.com", "github:bob"]
allow_source_changes = true
auto_approve_categories = ["dependency", "environment"]

[budget]
max_attempts = 5
max_minutes = 30
max_tokens = 100000
max_usd = 1.5
'''


def test_a_repository_without_a_policy_gets_the_safe_defaults(tmp_path: Path) -> None:
    policy = load_policy(tmp_path)
    assert policy == Policy()
    assert policy.allowed_paths == [] and policy.scope == "extend" and policy.approvers == []
    assert policy.allow_source_changes is False and policy.auto_approve_categories == []
    assert policy.budget.apply(Budget()) == Budget()


def test_every_key_is_read(tmp_path: Path) -> None:
    (tmp_path / ".greenline.toml").write_text(FULL)
    policy = load_policy(tmp_path)
    assert policy.allowed_paths == ["scripts/ci/*.sh", "config/**"]
    assert policy.approvers == ["alice@example.com", "github:bob"]
    assert policy.allow_source_changes is True
    assert policy.auto_approve_categories == [Category.DEPENDENCY, Category.ENVIRONMENT]
    assert policy.budget == PolicyBudget(max_attempts=5, max_minutes=30, max_tokens=100_000, max_usd=1.5)


def test_budget_overrides_apply_over_the_repair_budget() -> None:
    budget = Budget(max_attempts=3, max_wall_s=3600, max_tokens=200_000, max_usd=2.0)
    assert PolicyBudget(max_minutes=10, max_usd=0.5).apply(budget) == Budget(max_attempts=3, max_wall_s=600, max_tokens=200_000, max_usd=0.5)


def test_an_empty_file_is_the_default_policy() -> None:
    assert parse_policy("") == Policy()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("allowed_paths = [", "is not valid TOML"),
        ("allow_source_change = true", "unknown key 'allow_source_change': remove it or use one of allow_source_changes, allowed_paths"),
        ("[budget]\nmax_retries = 3", "unknown key 'budget.max_retries': remove it or use one of max_attempts, max_minutes, max_tokens, max_usd"),
        ("[budget]\nmax_attempts = 0", "bad value for 'budget.max_attempts' (got 0): Input should be greater than or equal to 1"),
        ("max_usd = 3", "unknown key 'max_usd'"),
        ('auto_approve_categories = ["dependency", "everything"]', "bad value for 'auto_approve_categories[1]' (got 'everything'): Input should be 'dependency'"),
        ('approvers = "alice"', "bad value for 'approvers' (got 'alice'): Input should be a valid list"),
        ('approvers = ["alice", " "]', "an approver may not be an empty string"),
        ('allowed_paths = ["../elsewhere/*"]', "must be a path relative to the repository root"),
        ('allowed_paths = ["/etc/*"]', "must be a path relative to the repository root"),
        ('scope = "everything"', "bad value for 'scope' (got 'everything'): Input should be 'extend' or 'replace'"),
        ("allow_source_changes = 'yes please'", "bad value for 'allow_source_changes'"),
    ],
)
def test_bad_policies_are_refused_naming_the_file_the_key_and_the_fix(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / ".greenline.toml").write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_policy(tmp_path)
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / '.greenline.toml'}: ")
    assert expected in message
    assert "docs/policy.md" in message
    assert isinstance(raised.value, ValueError)


def test_an_unreadable_policy_is_an_error_not_the_defaults(tmp_path: Path) -> None:
    (tmp_path / ".greenline.toml").write_bytes(b"\xff\xfe not text")
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path)


def test_the_policy_is_immutable() -> None:
    policy = Policy()
    with pytest.raises(ValueError):
        policy.allow_source_changes = True  # type: ignore[misc]
