"""ENTRYPOINT/CMD pointing at a path the image does not have, seen when the build step runs the
image it built (``docker build -t x . && docker run --rm x``): point it at the file the
Dockerfile does copy into the image that best matches."""

from __future__ import annotations

import difflib
import posixpath
import re
from dataclasses import dataclass

from models import Diagnosis
from specialists.dockerfile.case import Case
from specialists.dockerfile.context import clean, has_wildcards
from specialists.dockerfile.syntax import Instruction, Stage, Token, expand, replace_tokens

# (pattern, the path is a command looked up in PATH)
_RUNTIME = [
    (re.compile(r'exec: "([^"]+)": stat \S+: no such file or directory'), False),
    (re.compile(r'exec: "([^"]+)": executable file not found in \$PATH'), True),
    (re.compile(r"^exec (\S+): no such file or directory"), False),
    (re.compile(r"^(?:/\S+/)?(?:ba|da|z)?sh: (?:\d+: |line \d+: )?(\S+): (?:not found|No such file or directory)"), False),
    (re.compile(r"can't open file '([^']+)': \[Errno 2\]"), False),
    (re.compile(r"Error: Cannot find module '([^']+)'"), False),
]
# Shells, interpreters and Go's os/exec say the same outside containers: a line counts when the
# container runtime itself reports it, or when the build step runs a container.
_RUNS_CONTAINER = re.compile(r"\b(?:docker|podman|nerdctl)\s+(?:container\s+)?run\b|\bcompose\b[^;&|]*\b(?:up|run)\b")
_FROM_RUNTIME = re.compile(r"OCI runtime|^docker: Error response from daemon")
_DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


@dataclass(frozen=True)
class Missing:
    path: str  # as the runtime names it
    command: bool  # looked up in PATH (no slash in it)
    line: str


def missing_at_run(log: list[str], cmd: str) -> list[Missing]:
    runs_container = bool(_RUNS_CONTAINER.search(cmd))
    found: list[Missing] = []
    for line in log:
        if not runs_container and not _FROM_RUNTIME.search(line):
            continue
        for pattern, command in _RUNTIME:
            if match := pattern.search(line.strip()):
                found.append(Missing(match.group(1), command and "/" not in match.group(1), line.strip()))
                break
    return found


@dataclass
class ImageFiles:
    """Where the files the stage copies from the context land in the image."""

    files: dict[str, str]  # absolute path in the image -> context-relative source
    workdir: str
    path_dirs: tuple[str, ...]


def image_files(case: Case, stage: Stage) -> ImageFiles:
    chain: list[Stage] = []
    current: Stage | None = stage
    while current is not None and all(current.index != s.index for s in chain):
        chain.insert(0, current)
        parent = case.dockerfile.stage_by_name(current.image)
        current = parent if parent is not None and parent.index < current.index else None
    variables = {**case.dockerfile.global_args(), **case.build.build_args}
    files: dict[str, str] = {}
    workdir = "/"
    path_dirs: tuple[str, ...] = _DEFAULT_PATH
    for ins in [i for s in chain for i in s.instructions]:
        if ins.keyword == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, expand(ins.args, variables)))
        elif ins.keyword == "ENV":
            values = [t.value for t in ins.tokens]
            if not values:
                continue
            # ``ENV PATH=a:$PATH`` (any number of pairs) or the old ``ENV PATH a:$PATH``.
            if "=" in values[0]:
                pairs = [(v.partition("=")[0], v.partition("=")[2]) for v in values]
            else:
                pairs = [(values[0], " ".join(values[1:]))]
            for name, value in pairs:
                if name == "PATH":
                    path_dirs = tuple(d for d in expand(value, {"PATH": ":".join(path_dirs)}).split(":") if d)
        elif ins.keyword in ("COPY", "ADD"):
            flags, words = ins.split_flags()
            if "from" not in flags and len(words) >= 2:
                _copy(case, [w.value for w in words], workdir, files)
    return ImageFiles(files, workdir, path_dirs)


def _copy(case: Case, words: list[str], workdir: str, files: dict[str, str]) -> None:
    *sources, dest = words
    target = posixpath.normpath(posixpath.join(workdir, dest))
    # A file copied onto a folder that exists lands inside it; of the base image's folders, only
    # the usual ones can be told apart from a new file name.
    into_dir = (
        dest.endswith("/") or len(sources) > 1 or any(has_wildcards(s) for s in sources)
        or target in (workdir, "/", *_DEFAULT_PATH) or any(f.startswith(target + "/") for f in files)
    )  # fmt: skip
    for source in sources:
        src = clean(source)
        matched = case.context.glob(src) if has_wildcards(src) else [src]
        for path in matched:
            inside = [f for f in case.context.files if path == "" or f.startswith(path + "/")]
            if path in case.context.dirs or path == "":
                # A folder's contents are copied, not the folder itself.
                for f in inside:
                    files[posixpath.join(target, f[len(path) + 1 :] if path else f)] = f
            elif path in case.context.files:
                files[posixpath.join(target, posixpath.basename(path)) if into_dir else target] = path


def fix(case: Case, cmd: str) -> Diagnosis | None:
    missing = missing_at_run(case.log, cmd)
    stage = case.final_stage()
    if not missing or stage is None:
        return None
    commands = [i for i in stage.instructions if i.keyword in ("ENTRYPOINT", "CMD")]
    image = image_files(case, stage)
    for item in missing:
        for ins in reversed(commands):
            token = _token_for(ins, item, image.workdir)
            if token is not None:
                return _repoint(case, ins, token, item, image)
    return None


def _token_for(ins: Instruction, item: Missing, workdir: str) -> Token | None:
    for token in ins.tokens:
        value = token.value
        if value == item.path or (
            not item.command
            and posixpath.normpath(posixpath.join(workdir, value)) == posixpath.normpath(posixpath.join(workdir, item.path))
        ):
            return token
    return None


def _repoint(case: Case, ins: Instruction, token: Token, item: Missing, image: ImageFiles) -> Diagnosis:
    evidence = [ins.echo, item.line]
    written = token.value
    summary = f"{case.path}: {ins.keyword} runs {written}, which the image does not have"
    absolute = posixpath.normpath(posixpath.join(image.workdir, written))
    if not item.command and absolute in image.files:
        source = image.files[absolute]
        first = (case.view.read(case.context.root + "/" + source if case.context.root else source) or "").split("\n", 1)[0]
        detail = f" (its first line is {first.rstrip()!r})" if first.startswith("#!") or first.endswith("\r") else ""
        return case.escalate(
            f"{case.path}: {ins.keyword} runs {written}, which is in the image but cannot be executed",
            evidence,
            f"{absolute} is copied from {source}, so the path is right: its interpreter is missing or it has Windows line ends{detail}",
        )
    name = posixpath.basename(written)
    candidates: list[tuple[float, str]] = []
    for path in image.files:
        base = posixpath.basename(path)
        if base == name or (item.command and posixpath.splitext(base)[0] == name):
            score = 2.0 + difflib.SequenceMatcher(None, absolute, path).ratio()
        else:
            ratio = difflib.SequenceMatcher(None, name, base).ratio()
            if ratio < 0.75:
                continue
            score = ratio
        candidates.append((score, path))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    if not candidates:
        return case.escalate(
            summary,
            evidence,
            f"{written} is neither on the image's PATH nor among the files the Dockerfile copies into it; install it or copy it in",
        )
    if len(candidates) > 1 and candidates[1][0] > candidates[0][0] - 0.02:
        return case.escalate(summary, evidence, f"{written} is missing; {candidates[0][1]} and {candidates[1][1]} are equally likely meant")
    score, chosen = candidates[0]
    new = _written_like(written, chosen, image, item.command)
    return case.patched(
        f"{case.path}: {ins.keyword} runs {written}, which the image does not have: run {new} (copied from {image.files[chosen]})",
        evidence,
        0.8 if score >= 2.0 else 0.65,
        replace_tokens(case.dockerfile.text, {token: new}),
    )


def _written_like(written: str, chosen: str, image: ImageFiles, command: bool) -> str:
    """``chosen`` written the way ``written`` was: a bare command name when its folder is on PATH,
    relative to WORKDIR when the original was relative, else absolute."""
    folder = posixpath.dirname(chosen)
    if command and folder in image.path_dirs:
        return posixpath.basename(chosen)
    if not written.startswith("/") and not command and (chosen + "/").startswith(image.workdir.rstrip("/") + "/"):
        relative = posixpath.relpath(chosen, image.workdir)
        return f"./{relative}" if written.startswith("./") else relative
    return chosen
