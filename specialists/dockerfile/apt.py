"""An apt package the image's distribution does not have (renamed, made virtual, replaced, or the
package lists never fetched): install what stands in for it, as apt itself or the distribution's
package index (an injected lookup) says."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models import Diagnosis
from specialists.dockerfile.case import Case
from specialists.dockerfile.syntax import Dockerfile, Instruction, Stage, Token, insert_before, remove_token

_MISSING = re.compile(r"^E: (?:Unable to locate package (\S+)|Package '([^']+)' has no installation candidate)")
_VIRTUAL = re.compile(r"^Package (\S+) is a virtual package provided by:")
_REPLACED = re.compile(r"^Package (\S+) is not available, but is referred to by another package")
_REPLACE_LIST = "However the following packages replace it:"
_MANAGERS = ("apt-get", "apt", "aptitude")
_SEPARATORS = {"&&", "||", ";", "|", "&"}
_VALUE_OPTIONS = {"-o", "-t", "-c", "--option", "--target-release", "--config-file"}
_PRIORITY = {"required": 0.05, "important": 0.04, "standard": 0.03, "optional": 0.01}


@dataclass(frozen=True)
class AptPackage:
    """A package of the image's distribution that may stand in for a missing one."""

    name: str
    provides: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()  # what it replaces (a rename declares the old name here)
    priority: str = "optional"


# Given a package name that apt could not install and the image the failing stage starts from,
# the packages of that image's distribution related to it: the package itself when it exists,
# those that provide or replace it, and those whose names resemble it.
AptLookup = Callable[[str, str | None], Sequence[AptPackage]]


@dataclass
class AptInstall:
    """One ``apt-get install`` command inside a RUN."""

    start: Token  # first word of the command (an env assignment, sudo, or the manager)
    packages: list[Token]
    updated_before: bool  # an ``apt-get update`` runs before it in the same RUN


def installs(ins: Instruction) -> list[AptInstall]:
    found: list[AptInstall] = []
    updated = False
    commands: list[list[Token]] = [[]]
    for token in ins.tokens:
        text = token.text
        if text in _SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(token)
            if text.endswith(";") and len(text) > 1:
                commands.append([])
    for words in commands:
        values = [w.value for w in words]
        manager = next((i for i, v in enumerate(values) if v.rsplit("/", 1)[-1] in _MANAGERS), None)
        if manager is None:
            continue
        rest = values[manager + 1 :]
        action = next((v for v in rest if not v.startswith("-")), None)
        if action in ("update",):
            updated = True
        if action != "install":
            continue
        packages: list[Token] = []
        skip = False
        after = False
        for token, value in zip(words[manager + 1 :], rest, strict=True):
            if skip:
                skip = False
            elif value.startswith("-"):
                skip = value in _VALUE_OPTIONS
            elif not after:
                after = value == "install"
            else:
                packages.append(token)
        found.append(AptInstall(words[0], packages, updated))
    return found


def package_name(word: str) -> str:
    return re.split(r"[=:]", word, maxsplit=1)[0]


def fix(case: Case, lookup: AptLookup | None) -> Diagnosis | None:
    for step, ins in case.failures:
        missing = _missing(step.output + step.errors) or _missing(case.log)
        if not missing:
            continue
        runs = [ins] if ins is not None and ins.keyword == "RUN" else _runs_installing(case.dockerfile, missing)
        if not runs:
            continue
        return _fix_run(case, runs[0], missing, step.output + step.errors if step.output else case.log, lookup)
    return None


def _missing(lines: list[str]) -> list[str]:
    found: dict[str, None] = {}
    for line in lines:
        if match := _MISSING.match(line.strip()):
            found.setdefault(match.group(1) or match.group(2), None)
    return list(found)


def _runs_installing(dockerfile: Dockerfile, names: list[str]) -> list[Instruction]:
    return [
        ins
        for ins in dockerfile.instructions
        if ins.keyword == "RUN" and any(package_name(t.value) in names for i in installs(ins) for t in i.packages)
    ]


def hints(lines: list[str]) -> dict[str, list[AptPackage]]:
    """What apt itself said of each missing name: its providers, or the packages that replace it."""
    said: dict[str, list[AptPackage]] = {}
    state: tuple[str, str, bool] | None = None  # (missing name, relation, reading the list)
    for raw in lines:
        line = raw.strip()
        if match := _VIRTUAL.match(line):
            state = (match.group(1), "provides", True)
        elif match := _REPLACED.match(line):
            state = (match.group(1), "replaces", False)
        elif state is None:
            continue
        elif not line or line.startswith("E:"):
            state = None
        elif not state[2]:
            if line == _REPLACE_LIST:
                state = (state[0], state[1], True)
        elif not raw[:1].isspace():
            state = None
        else:
            name, relation, _ = state
            for other in line.split()[:1] if relation == "provides" else line.split():
                entry = AptPackage(other, provides=(name,)) if relation == "provides" else AptPackage(other, replaces=(name,))
                said.setdefault(name, []).append(entry)
    return said


def rank(missing: str, candidates: Sequence[AptPackage]) -> list[tuple[float, AptPackage, str]]:
    """Candidates best first, each with a score and why it may stand in for ``missing``."""
    ranked: dict[str, tuple[float, AptPackage, str]] = {}
    for package in candidates:
        if package.name == missing:
            continue
        similar = difflib.SequenceMatcher(None, missing, package.name).ratio()
        if missing in package.provides:
            # Providing and replacing the name: the distribution's designated successor.
            score, why = (3.05, "provides and replaces it") if missing in package.replaces else (3.0, "provides it")
        elif missing in package.replaces:
            score, why = 2.5, "replaces it"
        elif _stem(package.name) == _stem(missing) and _numbers(package.name):
            score, why = 2.0 + min(_numbers(package.name)[0], 999) / 10000, "is its newer version"
        elif similar >= 0.8:
            score, why = similar, "has a similar name"
        else:
            continue
        score += _PRIORITY.get(package.priority, 0.0) + 0.1 * similar
        if package.name not in ranked or ranked[package.name][0] < score:
            ranked[package.name] = (score, package, why)
    return sorted(ranked.values(), key=lambda r: (-r[0], r[1].name))


def _stem(name: str) -> str:
    return re.sub(r"\d+(?:\.\d+)*", "#", name)


def _numbers(name: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", name)]


def _fix_run(case: Case, ins: Instruction, missing: list[str], output: list[str], lookup: AptLookup | None) -> Diagnosis:
    evidence = [ins.echo[:200]] + [line for line in output if _MISSING.match(line.strip())]
    image = case.base_image(case.stage_of(ins))
    said = hints(output)
    commands = installs(ins)
    replacements: dict[str, tuple[str, str]] = {}
    unknown: list[str] = []
    needs_update = False
    for name in missing:
        related = [*said.get(name, []), *(lookup(name, image) if lookup else [])]
        exists = any(p.name == name for p in related)
        if exists and not any(c.updated_before for c in commands if any(package_name(t.value) == name for t in c.packages)):
            needs_update = True  # the distribution has it: the image's package lists were never fetched
            continue
        ranked = rank(name, related)
        if not ranked or len(ranked) > 1 and ranked[1][0] > ranked[0][0] - 0.001:
            unknown.append(name if not ranked else f"{name} ({ranked[0][1].name} or {ranked[1][1].name}?)")
            continue
        replacements[name] = (ranked[0][1].name, ranked[0][2])
    if unknown:
        source = "apt's output" + (
            f" and the package lists of {image or 'the host'}" if lookup else " (no package lookup is configured on this worker)"
        )
        return case.escalate(
            f"{case.path}: apt cannot install {', '.join(missing)}",
            evidence,
            f"no replacement found for {', '.join(unknown)} in {source}; pick the package by hand (apt-cache search on the base image)",
        )
    text = _apply(case.dockerfile.text, commands, replacements, needs_update)
    parts = [f"{old} -> {new} ({why})" for old, (new, why) in replacements.items()]
    if needs_update:
        parts.append("run apt-get update before apt-get install (the image has no package lists)")
    confidence = 0.8 if all(why != "has a similar name" for _, why in replacements.values()) else 0.55
    return case.patched(f"{case.path}: apt cannot install {', '.join(missing)}: {'; '.join(parts)}", evidence, confidence, text)


def _apply(text: str, commands: list[AptInstall], replacements: dict[str, tuple[str, str]], needs_update: bool) -> str:
    edits: list[tuple[Token, str | None]] = []
    for command in commands:
        present = {package_name(t.value) for t in command.packages}
        for token in command.packages:
            old = package_name(token.value)
            if old not in replacements:
                continue
            new = replacements[old][0]
            rest = token.value[len(old) :]  # ":arch" stays; "=version" pinned the old package
            arch = rest.split("=", 1)[0] if rest.startswith(":") else ""
            edits.append((token, None if new in present else new + arch))
            present.add(new)
    if needs_update:
        first = next((c for c in commands if not c.updated_before), None)
        if first is not None:
            edits.append((Token("", first.start.start, first.start.start), "apt-get update && "))
    for token, replacement in sorted(edits, key=lambda e: e[0].start, reverse=True):
        if replacement is None:
            text = remove_token(text, token)
        else:
            text = text[: token.start] + replacement + text[token.end :]
    return text


def add_package(dockerfile: Dockerfile, stage: Stage, before: Instruction, package: str) -> str:
    """The Dockerfile with ``package`` installed before ``before``: added to the stage's last
    apt-get install above it, else in a RUN of its own."""
    for ins in reversed([i for i in stage.instructions if i.first_line < before.first_line and i.keyword == "RUN"]):
        commands = [c for c in installs(ins) if c.packages]
        if commands:
            last = commands[-1].packages[-1]
            return dockerfile.text[: last.end] + f" {package}" + dockerfile.text[last.end :]
    return insert_before(
        dockerfile.text,
        before,
        [f"RUN apt-get update && apt-get install -y --no-install-recommends {package} && rm -rf /var/lib/apt/lists/*"],
    )
