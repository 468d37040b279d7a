"""Contracts of a dependency bisection: which distributions changed since the last green build,
the probe builds that held some of them back, and the culprits found."""

from __future__ import annotations

from pydantic import BaseModel, Field


class VersionChange(BaseModel):
    """A distribution installed at another version than in the last green build."""

    name: str
    good: str
    bad: str

    def describe(self) -> str:
        return f"{self.name} {self.good} -> {self.bad}"


class BisectionProbe(BaseModel):
    """One build to make: the ``floating`` changes at their failing versions, every other change
    held at its last green version."""

    floating: list[str]


class ProbeOutcome(BaseModel):
    floating: list[str]
    # The probe failed the way the failing build did (same failure, or the same tests failing).
    reproduced: bool
    exit_code: int
    duration_s: float


class Bisection(BaseModel):
    changes: list[VersionChange]
    culprits: list[VersionChange] = Field(default_factory=list)
    probes: list[ProbeOutcome] = Field(default_factory=list)
    # The culprits are proven: with only them changed the build fails, and some probe passed.
    conclusive: bool = False
    reason: str
