"""One Dockerfile of a failing build, with what the log says failed in it: the object every kind
of fix reads, and the one place that turns a fix into a Diagnosis."""

from __future__ import annotations

from dataclasses import dataclass, field

from models import Category, Diagnosis
from specialists.dockerfile.build import BuildCommand, FailedStep
from specialists.dockerfile.context import BuildContext
from specialists.dockerfile.syntax import Dockerfile, Instruction, Stage
from specialists.repo_view import RepoView

NAME = "dockerfile"


@dataclass
class Case:
    view: RepoView
    build: BuildCommand
    dockerfile: Dockerfile
    context: BuildContext
    log: list[str]
    # Failed steps, each with the instruction of this Dockerfile it is (None when not found here).
    failures: list[tuple[FailedStep, Instruction | None]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.dockerfile.path

    def stage_of(self, ins: Instruction) -> Stage:
        return self.dockerfile.stages[ins.stage]

    def final_stage(self) -> Stage | None:
        stages = self.dockerfile.stages
        if self.build.target:
            return self.dockerfile.stage_by_name(self.build.target)
        return stages[-1] if stages else None

    def base_image(self, stage: Stage) -> str | None:
        return self.dockerfile.base_image(stage, self.build.build_args)

    def patched(self, summary: str, evidence: list[str], confidence: float, new_text: str) -> Diagnosis:
        if new_text == self.dockerfile.text:
            # The culprit is named elsewhere (a script the RUN calls, a build argument's value).
            return self.escalate(summary, evidence, f"{summary}; but {self.path} does not name what to change: fix it where it is set")
        return Diagnosis(
            category=Category.DOCKER,
            specialist=NAME,
            summary=summary,
            evidence=_evidence(evidence),
            confidence=confidence,
            patch=self.view.with_changes({self.path: new_text}),
        )

    def escalate(self, summary: str, evidence: list[str], reason: str, confidence: float = 0.6) -> Diagnosis:
        return Diagnosis(
            category=Category.DOCKER,
            specialist=NAME,
            summary=summary,
            evidence=_evidence(evidence),
            confidence=confidence,
            escalate_reason=reason,
        )


def _evidence(lines: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for line in lines:
        if line.strip():
            seen.setdefault(line.strip()[:300], None)
    return list(seen)[:8]
