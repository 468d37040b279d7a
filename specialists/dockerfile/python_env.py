"""pip refusing to install into the distribution's Python (PEP 668, "externally-managed-environment"):
the image gets a virtual environment, put on PATH before the pip step, so every later ``pip``,
``python3`` and the image's CMD use it. Never ``--break-system-packages``, never deleting the
EXTERNALLY-MANAGED marker: both let pip overwrite files the distribution's packages own."""

from __future__ import annotations

import re

from models import Diagnosis
from specialists.dockerfile.apt import add_package, installs, package_name
from specialists.dockerfile.case import Case
from specialists.dockerfile.syntax import Instruction, insert_after, insert_before, remove_token

_EXTERNALLY_MANAGED = re.compile(r"externally-managed-environment|This environment is externally managed")
_NO_ENSUREPIP = re.compile(r"ensurepip is not\s*(?:available|$)", re.M)
_VENV_PACKAGE = re.compile(r"apt(?:-get)? install (python3[\w.]*-venv)\b")
_MAKES_VENV = re.compile(r"(?:-m\s+venv|\bvirtualenv)\s+(?:--?\S+\s+)*['\"]?([^\s'\"&;|]+)")
_PIP_PYTHON = re.compile(r"\b(python3(?:\.\d+)?)\s+-m\s+pip\b")
_HAS_VENV_PACKAGE = re.compile(r"^(?:python3(?:\.\d+)?-venv|python3-full|python3-virtualenv|virtualenv)$")
VENV = "/opt/venv"


def fix(case: Case) -> Diagnosis | None:
    for step, ins in case.failures:
        if ins is None or ins.keyword != "RUN":
            continue
        evidence = [ins.echo[:200], *[line for line in step.output + step.errors if _EXTERNALLY_MANAGED.search(line) or "PEP 668" in line]]
        if _EXTERNALLY_MANAGED.search(step.text):
            return _with_venv(case, ins, evidence)
        if _NO_ENSUREPIP.search(step.text) and _MAKES_VENV.search(ins.args):
            return _install_venv_package(
                case, ins, step.text, [ins.echo[:200], *[line for line in step.output if "ensurepip" in line or _VENV_PACKAGE.search(line)]]
            )
    return None


def _with_venv(case: Case, failing: Instruction, evidence: list[str]) -> Diagnosis:
    stage = case.stage_of(failing)
    before = [i for i in stage.instructions if i.first_line < failing.first_line]
    made = [(i, m.group(1)) for i in before if i.keyword == "RUN" and (m := _MAKES_VENV.search(i.args))]
    text = case.dockerfile.text
    if made:
        # The stage makes a venv already but never puts it on PATH: the pip step runs the system's pip.
        ins, venv = made[-1]
        on_path = any(i.keyword == "ENV" and f"{venv.rstrip('/')}/bin" in i.args for i in before)
        if on_path:
            return case.escalate(
                f"{case.path}: pip installs into the externally managed system Python",
                evidence,
                f"{venv} is on PATH before `{failing.echo[:120]}` yet pip still refuses: the step calls the system's pip or "
                "python by absolute path, or runs under another user; call the venv's pip there",
            )
        text = insert_after(text, ins, [f'ENV PATH="{venv.rstrip("/")}/bin:$PATH"'])
        summary = f"{case.path}: pip refuses the externally managed system Python (PEP 668): put the stage's venv {venv} on PATH"
        return case.patched(summary, evidence, 0.85, text)
    python = m.group(1) if (m := _PIP_PYTHON.search(failing.args)) else "python3"
    # Under a non-root USER the venv is made before it, as root, and handed to that user.
    user_ins, user = _user_in_effect(before)
    anchor = user_ins if user_ins is not None else failing
    make = f"RUN {python} -m venv {VENV}" + (f" && chown -R {user} {VENV}" if user else "")
    text = _without_user_flag(text, failing)
    text = insert_before(text, anchor, [make, f'ENV PATH="{VENV}/bin:$PATH"'])
    if not _stage_has_venv_package(stage.instructions, anchor):
        apt_runs = [i for i in before if i.keyword == "RUN" and i.first_line < anchor.first_line and _installs_python(i)]
        if apt_runs:
            # python3 comes from apt in this stage: its venv module is a separate package.
            last = [c for c in installs(apt_runs[-1]) if c.packages][-1].packages[-1]
            text = text[: last.end] + " python3-venv" + text[last.end :]
    summary = f"{case.path}: pip refuses the externally managed system Python (PEP 668): install into a virtual environment {VENV} on PATH"
    return case.patched(summary, evidence, 0.9, text)


def _user_in_effect(before: list[Instruction]) -> tuple[Instruction | None, str | None]:
    users = [i for i in before if i.keyword == "USER"]
    if not users:
        return None, None
    user = users[-1].args.split()[0] if users[-1].args.split() else ""
    if user.split(":")[0] in ("root", "0", ""):
        return None, None
    # The first USER of the run of non-root users that ends in the one in effect.
    first = users[-1]
    for ins in reversed(users):
        if ins.args.split()[0].split(":")[0] in ("root", "0"):
            break
        first = ins
    return first, user


def _without_user_flag(text: str, failing: Instruction) -> str:
    # ``pip install --user`` is refused inside a venv; the venv is the user's site now.
    for token in sorted((t for t in failing.tokens if t.value == "--user"), key=lambda t: t.start, reverse=True):
        if re.search(r"\bpip\d*(?:\.\d+)?\b[^&|;]*$", text[failing.start : token.start]):
            text = remove_token(text, token)
    return text


def _installs_python(ins: Instruction) -> bool:
    return any(package_name(t.value).startswith("python3") for c in installs(ins) for t in c.packages)


def _stage_has_venv_package(instructions: list[Instruction], anchor: Instruction) -> bool:
    return any(
        _HAS_VENV_PACKAGE.match(package_name(t.value))
        for i in instructions
        if i.keyword == "RUN" and i.first_line < anchor.first_line
        for c in installs(i)
        for t in c.packages
    )


def _install_venv_package(case: Case, ins: Instruction, output: str, evidence: list[str]) -> Diagnosis:
    """The venv step fails because the image's Python has no ensurepip: install the package it names."""
    match = _VENV_PACKAGE.search(output)
    package = match.group(1) if match else "python3-venv"
    text = add_package(case.dockerfile, case.stage_of(ins), ins, package)
    return case.patched(f"{case.path}: the image's Python cannot make a venv (no ensurepip): install {package}", evidence, 0.85, text)
