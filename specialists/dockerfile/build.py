"""What a failing ``docker build`` says: which Dockerfiles the build step builds (from its command
line), and which instruction failed with which output (from the log of the legacy builder, of
BuildKit's plain progress and of buildx's summary blocks)."""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field

from specialists.dockerfile.syntax import Dockerfile, Instruction, normalise
from specialists.repo_view import RepoView

# docker build options that take a value as the next word (the rest are switches).
_VALUED = {
    "-f", "--file", "-t", "--tag", "--target", "--build-arg", "--platform", "--network", "--label", "--cache-from",
    "--cache-to", "--progress", "-o", "--output", "--secret", "--ssh", "--iidfile", "--add-host", "--shm-size", "-m",
    "--memory", "--memory-swap", "--cgroup-parent", "--isolation", "--ulimit", "--security-opt", "--cpu-shares", "-c",
    "--cpu-period", "--cpu-quota", "--cpuset-cpus", "--cpuset-mems", "--build-context", "--builder", "--metadata-file",
    "--allow", "--attest", "--annotation", "--call",
}  # fmt: skip
_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", ";;", "|&"}
_WRAPPERS = {"sudo", "time", "exec", "env", "command", "nice"}
_DOCKERFILE_NAME = re.compile(r"(?:^|/)(?:Dockerfile(?:\.[\w.-]+)?|[\w.-]+\.[Dd]ockerfile|Containerfile)$")


@dataclass(frozen=True)
class BuildCommand:
    dockerfile: str  # repo-relative
    context: str  # repo-relative folder, '' for the repository's root
    target: str | None = None
    build_args: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


def build_commands(view: RepoView, cmd: str) -> list[BuildCommand]:
    """The ``docker build`` invocations of a build step; when it runs none itself (``make image``),
    every Dockerfile under the build folder, each with its own folder as context."""
    found: list[BuildCommand] = []
    for cwd, words in _simple_commands(cmd, view.subdir):
        build = _docker_build(words, cwd)
        if build and view.exists(build.dockerfile) and build not in found:
            found.append(build)
    if found:
        return found
    prefix = f"{view.subdir}/" if view.subdir else ""
    return [BuildCommand(p, posixpath.dirname(p)) for p in view.paths() if p.startswith(prefix) and _DOCKERFILE_NAME.search(p)]


def _simple_commands(cmd: str, cwd: str) -> list[tuple[str, list[str]]]:
    lexer = shlex.shlex(cmd, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return []
    commands: list[tuple[str, list[str]]] = []
    words: list[str] = []
    for token in [*tokens, ";"]:
        if token not in _OPERATORS:
            words.append(token)
            continue
        while words and ("=" in words[0] and not words[0].startswith("-") or words[0] in _WRAPPERS):
            words.pop(0)
        if words[:1] == ["cd"] and len(words) == 2 and not words[1].startswith("-"):
            cwd = _join(cwd, words[1])
        elif words:
            commands.append((cwd, words))
        words = []
    return commands


def _join(base: str, path: str) -> str:
    if path.startswith("/"):
        return path.strip("/")  # outside the checkout: nothing of the repo to see there
    joined = posixpath.normpath(posixpath.join(base or ".", path))
    return "" if joined == "." else joined


def _docker_build(words: list[str], cwd: str) -> BuildCommand | None:
    if not words or posixpath.basename(words[0]) not in ("docker", "podman", "nerdctl"):
        return None
    rest = words[1:]
    if rest[:2] in (["buildx", "build"], ["image", "build"], ["builder", "build"]):
        rest = rest[2:]
    elif rest[:1] == ["build"]:
        rest = rest[1:]
    else:
        return None
    options: dict[str, list[str]] = {}
    positional: list[str] = []
    i = 0
    while i < len(rest):
        word = rest[i]
        if word.startswith("-") and word != "-":
            name, eq, value = word.partition("=")
            if not eq and name in _VALUED and i + 1 < len(rest):
                value, i = rest[i + 1], i + 1
            options.setdefault(name, []).append(value)
        else:
            positional.append(word)
        i += 1
    if not positional or "://" in positional[-1] or positional[-1] == "-":
        return None
    context = _join(cwd, positional[-1])
    file = (options.get("-f") or options.get("--file") or [""])[-1]
    dockerfile = _join(cwd, file) if file and file != "-" else posixpath.join(context, "Dockerfile") if context else "Dockerfile"
    build_args = {}
    for arg in options.get("--build-arg", []):
        name, eq, value = arg.partition("=")
        if eq:
            build_args[name] = value
    targets = options.get("--target")
    target = targets[-1] if targets else None
    return BuildCommand(dockerfile, context, target, build_args, tuple(options.get("-t", []) + options.get("--tag", [])))


# --- the log -------------------------------------------------------------------------------


@dataclass
class FailedStep:
    instruction: str | None  # as the builder echoes it ("COPY app.py /app/"); None when not said
    output: list[str] = field(default_factory=list)  # what it printed, builder prefixes removed
    errors: list[str] = field(default_factory=list)  # the builder's own error lines about it
    lines: list[int] = field(default_factory=list)  # Dockerfile line numbers, when the builder names them
    image: str | None = None  # the base image the builder could not load

    @property
    def text(self) -> str:
        return "\n".join(self.output + self.errors)


_LEGACY_STEP = re.compile(r"^Step \d+/\d+ : (.*)$")
_LEGACY_NOISE = re.compile(r"^ ---> |^Removing intermediate container |^Sending build context")
_LEGACY_ERROR = re.compile(
    r"^(?:COPY|ADD) failed: |^The command .* returned a non-zero code: |^(?:Error response from daemon: )?(?:failed to|manifest for|pull access denied|Get \")|^unable to "
)
_BK_HEADER = re.compile(r"^#(\d+) \[([^\]]*)\] (.*)$")
_BK_LINE = re.compile(r"^#(\d+) (?:\d+\.\d+(?: |$))?(.*)$")
_BK_SUMMARY = re.compile(r"^ ?> \[([^\]]*)\] (.*):$")
_TTY_ERROR = re.compile(r"^\s*=> ERROR \[([^\]]*)\] (.*?)(?:\s+\d+(?:\.\d+)?s)?$")
_EXCERPT = re.compile(r"^\s*(\d+)\s*\|\s*>>>\s?(.*)$")
_METADATA = re.compile(r"load metadata for (\S+)")
_TIMESTAMP = re.compile(r"^\d+\.\d+ ")


def failed_steps(lines: list[str]) -> list[FailedStep]:
    """The instructions a build reports failed, in the order the log names them."""
    steps: dict[str, FailedStep] = {}
    vertices: dict[str, tuple[str, str]] = {}
    output: dict[str, list[str]] = {}
    legacy: tuple[str, int] | None = None
    excerpt: list[int] = []
    summary: FailedStep | None = None
    for index, raw in enumerate(lines):
        line = raw.rstrip()
        if match := _LEGACY_STEP.match(line):
            legacy = (match.group(1), index)
            continue
        if match := _BK_HEADER.match(line):
            vertices.setdefault(match.group(1), (match.group(2), match.group(3)))
            continue
        if match := _BK_LINE.match(line):
            vertex, body = match.groups()
            if body.startswith("ERROR: ") and vertex in vertices:
                step = _step(steps, *vertices[vertex])
                step.output = output.get(vertex, [])
                step.errors.append(body[len("ERROR: ") :])
            elif not re.match(r"^(?:sha256:|DONE |CACHED$|transferring )", body):
                output.setdefault(vertex, []).append(body)
            continue
        if match := _BK_SUMMARY.match(line):
            summary = _step(steps, *match.groups())
            continue
        if line == "------":
            summary = None
            continue
        if summary is not None:
            summary.output.append(_TIMESTAMP.sub("", line.lstrip()))
            continue
        if match := _TTY_ERROR.match(line):
            _step(steps, *match.groups())
            continue
        if match := _EXCERPT.match(line):
            excerpt.append(int(match.group(1)))
    if legacy is not None and not any("Successfully built" in line for line in lines[legacy[1] :]):
        after = [line.rstrip() for line in lines[legacy[1] + 1 :] if not _LEGACY_NOISE.match(line)]
        step = FailedStep(normalise(legacy[0]), output=[line for line in after if not _LEGACY_ERROR.match(line)])
        step.errors = [line for line in after if _LEGACY_ERROR.match(line)] or after[-1:]
        steps.setdefault(f"legacy {legacy[0]}", step)
    found = list(steps.values())
    if excerpt and len(found) == 1:
        found[0].lines = excerpt
    for step in found:
        words = (step.instruction or "").split()
        if words[:1] and words[0].upper() == "FROM":
            step.image = next((w for w in words[1:] if not w.startswith("--")), None)
    return found


def _step(steps: dict[str, FailedStep], label: str, text: str) -> FailedStep:
    """The step a BuildKit vertex or summary names; ``[internal] load metadata for X`` is the FROM of X."""
    metadata = _METADATA.match(text) if label == "internal" else None
    if metadata:
        key = f"image {metadata.group(1)}"
        step = steps.setdefault(key, FailedStep(None))
        step.image = metadata.group(1)
        return step
    key = f"{label} {normalise(text)}"
    return steps.setdefault(key, FailedStep(normalise(text)))


def find_instruction(dockerfile: Dockerfile, step: FailedStep) -> Instruction | None:
    """The instruction of ``dockerfile`` a failed step is: by the line the builder names, else by
    its text (the builders echo it with continuations joined)."""
    keyword = (step.instruction or "").split(" ", 1)[0].upper()
    if step.lines:
        for ins in dockerfile.instructions:
            # The line is only trusted where the keyword agrees: another Dockerfile may have failed.
            if any(ins.first_line < n <= ins.end_line for n in step.lines) and keyword in ("", ins.keyword):
                return ins
    if step.instruction is None:
        return None
    wanted = _comparable(step.instruction)
    matches = [ins for ins in dockerfile.instructions if _comparable(ins.echo) == wanted]
    if not matches and wanted.endswith("..."):  # a tty line cut to the terminal's width
        matches = [ins for ins in dockerfile.instructions if _comparable(ins.echo).startswith(wanted[:-3])]
    return matches[-1] if matches else None


def _comparable(echo: str) -> str:
    keyword, _, rest = normalise(echo).partition(" ")
    return f"{keyword.upper()} {rest}"
