"""Contracts of a proposed change: hypothesis, patch, review verdict."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import BaseModel, Field, computed_field


class FileChange(BaseModel):
    """The whole new content of one file (``None`` deletes it)."""

    path: str
    content: str | None


class Patch(BaseModel):
    """A cumulative change against the base commit, plus a unified diff for humans."""

    changes: list[FileChange]
    diff: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def id(self) -> str:
        """Identity of the change itself: the same edits give the same id, whatever the wording."""
        digest = hashlib.sha256()
        for change in sorted(self.changes, key=lambda c: c.path):
            digest.update(change.path.encode() + b"\0")
            digest.update(b"-" if change.content is None else change.content.encode())
            digest.update(b"\0")
        return digest.hexdigest()[:16]

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.changes]


class Category(StrEnum):
    DEPENDENCY = "dependency"
    ENVIRONMENT = "environment"
    DOCKER = "docker"
    TERRAFORM = "terraform"
    INFRA_TRANSIENT = "infra-transient"
    FLAKY = "flaky"
    ORDER_DEPENDENT = "order-dependent"
    LOGIC = "logic"
    UNKNOWN = "unknown"


class Engine(StrEnum):
    RULES = "rules"
    LLM = "llm"
    AUTO = "auto"


class Diagnosis(BaseModel):
    """A specialist's hypothesis about a failure, with the patch it proposes (if any)."""

    category: Category
    specialist: str
    engine: Engine = Engine.RULES
    summary: str
    evidence: list[str] = Field(default_factory=list)
    confidence: float = 0.0
    patch: Patch | None = None
    escalate_reason: str | None = None
    tokens_input: int = 0
    tokens_output: int = 0
    cost_usd: float = 0.0


class ReviewVerdict(BaseModel):
    """The guardrail's decision on a patch; ``findings`` name the rule and the lines."""

    patch_id: str
    accepted: bool
    findings: list[str] = Field(default_factory=list)
