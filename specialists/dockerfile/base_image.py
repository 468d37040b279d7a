"""A base image tag that no longer exists: the stage starts from an existing tag of the same image
and the same major version (versions compared with ``packaging``), from an injected tag lister."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from models import Diagnosis
from specialists.dockerfile.case import Case
from specialists.dockerfile.syntax import Instruction, Token, expand, parse, replace_tokens

# Given an image repository as the Dockerfile names it (``python``, ``ghcr.io/org/app``), the
# tags of it that exist (on the worker: the local daemon's images of that repository).
ListImageTags = Callable[[str], Sequence[str]]

_REFS = [
    re.compile(r"failed to resolve source metadata for (\S+?):(?:\s|$)"),
    re.compile(r"manifest for (\S+) not found"),
    re.compile(r"pull access denied for ([^\s,]+)"),
    re.compile(r"failed to create LLB definition: (\S+?): not found"),
    re.compile(r"No such image: (\S+)"),
]
_GONE = re.compile(r"manifest unknown|not found|pull access denied|does not exist|No such image", re.I)
_TAG = re.compile(r"^(?P<prefix>[A-Za-z]*[-_]?)(?P<version>\d+(?:\.\d+)*)(?P<suffix>(?:[-_+].*)?)$")


@dataclass(frozen=True)
class Ref:
    repository: str  # normalised: no docker.io/ or library/ prefix
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        return self.repository + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def parse_ref(text: str) -> Ref:
    name, _, digest = text.strip().partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    if name.startswith("library/") and name.count("/") == 1:
        name = name[len("library/") :]
    return Ref(name, tag, digest or None)


def failed_images(case: Case) -> list[tuple[Ref, bool, list[str]]]:
    """Images the builder could not load, whether the registry said they do not exist (else it
    could not be asked), and the lines that say so."""
    found: dict[str, tuple[Ref, bool, list[str]]] = {}
    variables = {**case.dockerfile.global_args(), **case.build.build_args}
    for step, _ in case.failures:
        if step.image:
            # The legacy builder echoes FROM as written, variables and all.
            ref = parse_ref(expand(step.image, variables))
            found.setdefault(str(ref), (ref, bool(_GONE.search("\n".join(step.errors))), step.errors[-2:]))
    for line in case.log:
        for pattern in _REFS:
            if match := pattern.search(line):
                ref = parse_ref(match.group(1).rstrip(":,"))
                previous = found.get(str(ref))
                gone = bool(_GONE.search(line)) or (previous is not None and previous[1])
                found[str(ref)] = (ref, gone, [*(previous[2] if previous else []), line.strip()])
    return list(found.values())


def fix(case: Case, list_tags: ListImageTags | None) -> Diagnosis | None:
    variables = {**case.dockerfile.global_args(), **case.build.build_args}
    for wanted, gone, lines in failed_images(case):
        froms: list[tuple[Instruction, Token]] = []
        written: Ref | None = None
        for stage in case.dockerfile.stages:
            _, words = stage.start.split_flags()
            ref = parse_ref(expand(words[0].value, variables)) if words else None
            if (
                ref is not None
                and ref.repository == wanted.repository
                and wanted.tag in (None, ref.tag or "latest")
                and ref == (written or ref)
            ):
                froms.append((stage.start, words[0]))
                written = ref
        if written is not None:
            return _retag(case, froms, written, gone, lines, list_tags)
    return None


def _retag(
    case: Case, froms: list[tuple[Instruction, Token]], ref: Ref, gone: bool, lines: list[str], list_tags: ListImageTags | None
) -> Diagnosis:
    """Every FROM of ``ref`` (stages often share a base) moves to the chosen tag."""
    ins, token = froms[0]
    evidence = [ins.echo, *lines]
    summary = f"{case.path}: base image {ref} cannot be loaded"
    why = "the registry does not have it" if gone else "the registry cannot be reached and no local image has that tag"
    if ref.digest or not ref.tag:
        return case.escalate(summary, evidence, f"{ref} is pinned by digest or has no tag: choose its replacement by hand ({why})")
    if list_tags is None:
        return case.escalate(
            summary, evidence, f"{why}; no image tag lister is configured on this worker to find another tag of {ref.repository}"
        )
    tags = list(list_tags(ref.repository))
    if ref.tag in tags:
        return case.escalate(
            summary,
            evidence,
            f"{ref} exists locally but the builder still fetches it (a --pull flag, or a builder without access to local images)",
        )
    chosen = choose_tag(ref.tag, tags)
    if chosen is None:
        known = ", ".join(sorted(tags)[:10]) or "none"
        return case.escalate(
            summary, evidence, f"{why}, and no other tag of {ref.repository} has the same variant and major version (tags: {known})"
        )
    literal = {t: _with_tag(t.value, chosen) for _, t in froms if "$" not in t.value}
    new_text: str | None = replace_tokens(case.dockerfile.text, literal)
    for _, t in froms:
        if "$" in t.value and new_text is not None:
            new_text = _retag_argument(case, new_text, t.value, ref.tag, chosen)
    if new_text is None:
        return case.escalate(
            summary, evidence, f"the tag comes from a build argument set outside the Dockerfile; use {ref.repository}:{chosen}"
        )
    return case.patched(
        f"{case.path}: base image {ref} cannot be loaded ({why}): use {ref.repository}:{chosen}, the nearest tag of the same major version",
        evidence,
        0.8 if gone else 0.6,
        new_text,
    )


def _with_tag(written: str, tag: str) -> str:
    name = written.partition("@")[0]
    colon, slash = name.rfind(":"), name.rfind("/")
    return (name[:colon] if colon > slash else name) + f":{tag}"


def _retag_argument(case: Case, text: str, written: str, old_tag: str, new_tag: str) -> str | None:
    """A FROM whose tag comes from an ARG: change the ARG's default so the FROM names ``new_tag``."""
    dockerfile = parse(case.path, text)  # ``text`` may carry edits already
    defaults = dockerfile.global_args()
    if parse_ref(expand(written, {**defaults, **case.build.build_args})).tag == new_tag:
        return text  # another FROM of the same ARG changed it already
    for name in re.findall(r"\$\{?(\w+)", written):
        if name in case.build.build_args or name not in defaults:
            continue
        for old, new in ((old_tag, new_tag), (_version(old_tag), _version(new_tag))):
            value = defaults[name]
            if not old or old not in value:
                continue
            candidate = value.replace(old, new)
            if parse_ref(expand(written, {**defaults, name: candidate})).tag != new_tag:
                continue
            for ins in dockerfile.instructions:
                if ins.keyword == "FROM":
                    break
                for token in ins.tokens if ins.keyword == "ARG" else []:
                    if token.value.partition("=")[0] == name:
                        return replace_tokens(text, {token: f"{name}={candidate}"})
    return None


def _version(tag: str) -> str:
    match = _TAG.match(tag)
    return match.group("version") if match else ""


def choose_tag(requested: str, tags: Sequence[str]) -> str | None:
    """The tag to use instead of ``requested``: same prefix and suffix (variant), same major
    version; a finer release of the same version first (3.9 -> 3.9.18), then the nearest newer
    release, then the nearest older one. Pre-releases only when a pre-release was asked for."""
    wanted = _split(requested)
    if wanted is None:
        return None
    prefix, version, suffix = wanted
    finer: list[tuple[Version, str]] = []
    newer: list[tuple[Version, str]] = []
    older: list[tuple[Version, str]] = []
    for tag in tags:
        other = _split(tag)
        if other is None or tag == requested or (other[0], other[2]) != (prefix, suffix):
            continue
        candidate = other[1]
        if candidate.release[0] != version.release[0] or (candidate.is_prerelease and not version.is_prerelease):
            continue
        if candidate.release[: len(version.release)] == version.release and len(candidate.release) > len(version.release):
            finer.append((candidate, tag))
        elif candidate > version:
            newer.append((candidate, tag))
        else:
            older.append((candidate, tag))
    if finer:
        return max(finer)[1]
    if newer:
        return min(newer)[1]
    if older:
        return max(older)[1]
    return None


def _split(tag: str) -> tuple[str, Version, str] | None:
    match = _TAG.match(tag)
    if not match:
        return None
    try:
        return match.group("prefix"), Version(match.group("version")), match.group("suffix")
    except InvalidVersion:
        return None
