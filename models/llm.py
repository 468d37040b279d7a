"""Contracts of the LLM engine: what the workflow asks a model call for, and what it gets back
(the answer and what the call cost). Usage is charged by the workflow, so it survives crashes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from models.build import ArtifactRef
from models.patch import Diagnosis, Patch
from models.repair import DiagnoseRequest


class Usage(BaseModel):
    """What one model call consumed, as the server reported it, and its price."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    usd: float = 0.0

    @property
    def total_input(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


class InvalidAnswer(BaseModel):
    """An answer that failed validation, fed back so the next call can correct it: the tool
    input the model gave (JSON) or its text, when it did not call the tool."""

    answer: str
    error: str
    tool_use_id: str | None = None


class TriedFix(BaseModel):
    """What an earlier attempt of this repair proposed and why it did not work."""

    summary: str
    diff: str
    outcome: str


class Allowance(BaseModel):
    """What the remaining budget can pay for: a call that could cost more is not started."""

    tokens: int = Field(ge=0)
    usd: float = Field(ge=0)


class LLMDiagnoseRequest(BaseModel):
    diagnose: DiagnoseRequest
    allowance: Allowance
    tried: list[TriedFix] = Field(default_factory=list)
    # The rule playbooks' conclusion, when they had one but no fix (a hint, not an order).
    rules_said: str | None = None
    allow_source_changes: bool = False
    feedback: list[InvalidAnswer] = Field(default_factory=list)
    timeout_s: float = Field(default=120.0, gt=0)


class LLMDiagnosis(BaseModel):
    """One call's outcome: a diagnosis (with or without patch), an answer to correct, or a
    call not made because the allowance could not cover it."""

    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    prompt: str = ""
    diagnosis: Diagnosis | None = None
    invalid: InvalidAnswer | None = None
    not_started: str | None = None
    # The request as sent (redacted) and the answer, for the audit trail.
    transcript: ArtifactRef | None = None


class SecurityReviewRequest(BaseModel):
    patch: Patch
    summary: str
    allowance: Allowance
    timeout_s: float = Field(default=120.0, gt=0)


class SecurityReview(BaseModel):
    """The second reviewer's verdict. It can refuse a patch the static rules accepted, never
    accept one they refused."""

    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    accepted: bool = True
    concerns: list[str] = Field(default_factory=list)
    not_started: str | None = None
    transcript: ArtifactRef | None = None
