"""What the model must answer, as pydantic models that are also its tools' input schemas, and
how an answer becomes a patch. Every check that fails says what to correct, because the error
is fed back to the model."""

from __future__ import annotations

import posixpath
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from models import Category, Diagnosis, Engine, Patch
from specialists.repo_view import RepoView

FIX_TOOL = "propose_fix"
REVIEW_TOOL = "security_verdict"


class Edit(BaseModel):
    path: str = Field(description="file path relative to the repository root")
    old: str = Field(description="exact current text to replace, unique in the file; empty to create a new file")
    new: str = Field(description="the replacement text (the whole content when creating a file)")


class Proposal(BaseModel):
    hypothesis: str = Field(description="what broke the build, in one or two sentences")
    category: Category = Field(description="the kind of failure")
    rationale: str = Field(description="why the edits fix the cause rather than hide it")
    confidence: float = Field(ge=0, le=1)
    edits: list[Edit] = Field(default_factory=list, description="the smallest change that fixes the build; empty when no safe fix exists")
    escalate: str | None = Field(default=None, description="when edits is empty: why a human must decide")


class SecurityVerdict(BaseModel):
    accepted: bool
    concerns: list[str] = Field(default_factory=list, description="one per problem, naming the file and line")


class AnswerError(ValueError):
    """The answer cannot be used as it is; the message says what to correct."""


def tool(name: str, model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"name": name, "description": description, "input_schema": model.model_json_schema()}


FIX_TOOLS = [tool(FIX_TOOL, Proposal, "Propose the fix for the failing build (or explain why none is safe).")]
REVIEW_TOOLS = [tool(REVIEW_TOOL, SecurityVerdict, "Give the security verdict on the patch.")]


def parse(model: type[BaseModel], tool_input: object) -> Any:
    try:
        return model.model_validate(tool_input)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in err.errors())
        raise AnswerError(f"the {model.__name__} does not match its schema: {problems}") from None


def to_diagnosis(proposal: Proposal, view: RepoView, *, specialist: str) -> Diagnosis:
    """The proposal as a diagnosis with a cumulative patch over ``view``."""
    if not proposal.edits:
        if not proposal.escalate:
            raise AnswerError("no edits and no `escalate` reason: propose edits, or say why no safe fix exists")
        return Diagnosis(
            category=proposal.category, specialist=specialist, engine=Engine.LLM, summary=proposal.hypothesis,
            evidence=[proposal.rationale], confidence=proposal.confidence, escalate_reason=proposal.escalate,
        )
    return Diagnosis(
        category=proposal.category, specialist=specialist, engine=Engine.LLM, summary=proposal.hypothesis,
        evidence=[proposal.rationale], confidence=proposal.confidence, patch=apply_edits(view, proposal.edits),
    )


def apply_edits(view: RepoView, edits: list[Edit]) -> Patch:
    contents: dict[str, str | None] = {}
    for number, edit in enumerate(edits, 1):
        path = _repo_path(edit.path, number)
        current = contents[path] if path in contents else view.read(path)
        if not edit.old:
            if current is not None:
                raise AnswerError(f"edit {number}: {path} already exists; to change it, give the exact text to replace in `old`")
            contents[path] = edit.new
            continue
        if current is None:
            raise AnswerError(f"edit {number}: {path} does not exist in the repository; use a path from the file list, or an empty `old` to create it")
        count = current.count(edit.old)
        if count != 1:
            where = "does not occur" if count == 0 else f"occurs {count} times"
            raise AnswerError(f"edit {number}: the `old` text {where} in {path}; copy a unique piece of its current content exactly, with its indentation")
        contents[path] = current.replace(edit.old, edit.new, 1)
    patch = view.with_changes(contents)
    if not patch.diff.strip():
        raise AnswerError("the edits change nothing: `new` equals `old`")
    return patch


def _repo_path(path: str, number: int) -> str:
    normal = posixpath.normpath(path.strip().replace("\\", "/"))
    if not path.strip() or normal.startswith(("/", "../")) or normal in ("..", "."):
        raise AnswerError(f"edit {number}: {path!r} is not a path inside the repository; give it relative to the repository root")
    return normal
