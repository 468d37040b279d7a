"""The limits of one repair, set by the request and tightened or loosened by the repository's policy."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Budget(BaseModel):
    """Limits of one repair. Checked by the workflow before every act phase."""

    max_attempts: int = Field(default=3, ge=1, le=50)
    max_wall_s: float = Field(default=3600.0, gt=0)
    max_tokens: int = Field(default=200_000, ge=0)
    max_usd: float = Field(default=2.0, ge=0)
    # Triage: reruns of failing tests (each a small build) and retries of transient failures.
    max_reruns: int = Field(default=10, ge=0, le=100)
    max_transient_retries: int = Field(default=2, ge=0, le=10)
