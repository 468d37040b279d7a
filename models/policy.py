"""The repair policy of a repository (its ``.greenline.toml``): what a repair may change, who may
approve it and what it may spend. Every field has a safe default, so a repository without the file
gets the strictest policy."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.patch import Category
from models.budget import Budget


class PolicyBudget(BaseModel):
    """Optional overrides of the repair budget; ``None`` keeps the value the repair was started with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int | None = Field(default=None, ge=1, le=50)
    max_minutes: float | None = Field(default=None, gt=0, le=7 * 24 * 60)
    max_tokens: int | None = Field(default=None, ge=0)
    max_usd: float | None = Field(default=None, ge=0)

    def apply(self, budget: Budget) -> Budget:
        """``budget`` with this policy's overrides laid over it."""
        update: dict[str, float | int] = {}
        if self.max_attempts is not None:
            update["max_attempts"] = self.max_attempts
        if self.max_minutes is not None:
            update["max_wall_s"] = self.max_minutes * 60.0
        if self.max_tokens is not None:
            update["max_tokens"] = self.max_tokens
        if self.max_usd is not None:
            update["max_usd"] = self.max_usd
        return budget.model_copy(update=update)


class Policy(BaseModel):
    """A repository's repair policy. The defaults are the safe ones: the default scope only, any
    approver, the budget the repair was started with, no source changes, nothing auto-approved."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Globs (``**`` spans folders; a glob without ``/`` matches the file name in any folder).
    allowed_paths: list[str] = Field(default_factory=list)
    # ``extend``: allowed_paths add to the default scope; ``replace``: only allowed_paths are in scope.
    scope: Literal["extend", "replace"] = "extend"
    # Identities allowed to approve or reject a fix; empty: anyone who can reach the workflow.
    approvers: list[str] = Field(default_factory=list)
    budget: PolicyBudget = Field(default_factory=PolicyBudget)
    # Source files (code outside the default scope) may be changed; tests never may.
    allow_source_changes: bool = False
    # Verified fixes of these categories are approved without asking a human.
    auto_approve_categories: list[Category] = Field(default_factory=list)
    # The LLM engine's security reviewer reads patches after the static rules accepted them:
    # ``llm-patches`` (those the model wrote), ``all`` (the playbooks' too), ``off``. It only runs
    # when the repair may use the model; it can refuse a patch, never accept a refused one.
    security_review: Literal["llm-patches", "all", "off"] = "llm-patches"

    @field_validator("allowed_paths")
    @classmethod
    def _relative_globs(cls, globs: list[str]) -> list[str]:
        for glob in globs:
            parts = glob.strip().split("/")
            if not glob.strip():
                raise ValueError("a glob may not be empty")
            if glob.startswith(("/", "~")) or ".." in parts or "\\" in glob:
                raise ValueError(f"{glob!r} must be a path relative to the repository root, with '/' separators and no '..'")
        return [g.strip() for g in globs]

    @field_validator("approvers")
    @classmethod
    def _non_empty_identities(cls, approvers: list[str]) -> list[str]:
        if any(not a.strip() for a in approvers):
            raise ValueError("an approver may not be an empty string")
        return [a.strip() for a in approvers]
