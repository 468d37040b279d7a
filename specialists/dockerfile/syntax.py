"""Dockerfiles as the builders read them: instructions with their exact place in the text, so a
fix rewrites one word or inserts one line and leaves everything else byte for byte."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"^#\s*(\w+)\s*=\s*(\S+)\s*$")
_WORD = re.compile(r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'])+""")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_]\w*)\1")
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::?([-+])([^}]*))?\}|(\w+))")


@dataclass(frozen=True)
class Token:
    """One argument word: its text as written and where it is in the file."""

    text: str
    start: int
    end: int
    json: bool = False

    @property
    def value(self) -> str:
        if self.json:
            return str(json.loads(self.text))
        try:
            words = shlex.split(self.text)
        except ValueError:
            return self.text
        return words[0] if len(words) == 1 else self.text


@dataclass
class Instruction:
    keyword: str  # upper case
    args: str  # the arguments on one line, as the builders echo them
    first_line: int  # 0-based index of its first line
    end_line: int  # index of the line after its last one
    start: int  # offset of its first character in the file
    tokens: list[Token] = field(default_factory=list)
    json_form: bool = False
    stage: int = -1  # index of its stage; -1 for the ARGs before the first FROM

    @property
    def echo(self) -> str:
        return normalise(f"{self.keyword} {self.args}")

    def split_flags(self) -> tuple[dict[str, str], list[Token]]:
        """``--flag=value`` words before the first other word, and the words after them."""
        flags: dict[str, str] = {}
        for i, token in enumerate(self.tokens):
            if self.json_form or not token.text.startswith("--"):
                return flags, self.tokens[i:]
            name, _, value = token.text[2:].partition("=")
            flags[name.lower()] = value
        return flags, []


@dataclass
class Stage:
    index: int
    image: str  # as written, variables unexpanded
    name: str | None
    start: Instruction  # its FROM
    instructions: list[Instruction]


@dataclass
class Dockerfile:
    path: str
    text: str
    instructions: list[Instruction]

    @property
    def stages(self) -> list[Stage]:
        stages: list[Stage] = []
        for ins in self.instructions:
            if ins.keyword == "FROM":
                _, words = ins.split_flags()
                name = words[2].value if len(words) >= 3 and words[1].value.lower() == "as" else None
                stages.append(Stage(len(stages), words[0].value if words else "", name, ins, []))
            elif stages:
                stages[-1].instructions.append(ins)
        return stages

    def global_args(self) -> dict[str, str]:
        """The ARGs declared before the first FROM, with their defaults ('' when none)."""
        found: dict[str, str] = {}
        for ins in self.instructions:
            if ins.keyword == "FROM":
                break
            if ins.keyword == "ARG":
                for token in ins.tokens:
                    name, _, default = token.value.partition("=")
                    found[name] = default
        return found

    def stage_by_name(self, name: str) -> Stage | None:
        stages = self.stages
        if name.isdigit() and int(name) < len(stages):
            return stages[int(name)]
        return next((s for s in stages if s.name and s.name.lower() == name.lower()), None)

    def base_image(self, stage: Stage, build_args: Mapping[str, str] = {}) -> str | None:
        """The image a stage starts from, following ``FROM other-stage`` chains; ``None`` for scratch."""
        seen = set()
        while stage.index not in seen:
            seen.add(stage.index)
            image = expand(stage.image, {**self.global_args(), **build_args})
            parent = self.stage_by_name(image) if image and not image.isdigit() else None
            if parent is None or parent.index >= stage.index:
                return None if image == "scratch" else image
            stage = parent
        return None


def normalise(text: str) -> str:
    return " ".join(text.split())


def parse(path: str, text: str) -> Dockerfile:
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    escape = "\\"
    for line in lines:  # parser directives come first, before any other line
        match = _DIRECTIVE.match(line.strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("`", "\\"):
            escape = match.group(2)
    instructions: list[Instruction] = []
    stage = -1
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        first = i
        parts: list[tuple[int, str]] = [(i, lines[i])]
        while _continues(parts[-1][1], escape) and i + 1 < len(lines):
            i += 1
            if not lines[i].strip() or lines[i].strip().startswith("#"):
                continue  # the parser drops comment and empty lines inside an instruction
            parts.append((i, lines[i]))
        i += 1
        keyword, _, _ = stripped.partition(" ")
        keyword = keyword.split("\t")[0].upper()
        heredoc = _HEREDOC.search(" ".join(p for _, p in parts)) if keyword in ("RUN", "COPY", "ADD") else None
        if heredoc:
            while i < len(lines) and lines[i].strip() != heredoc.group(2):
                i += 1
            i = min(i + 1, len(lines))
        if keyword == "FROM":
            stage += 1
        ins = Instruction(
            keyword=keyword, args="", first_line=first, end_line=i, start=offsets[first] + lines[first].index(stripped[0]), stage=stage
        )
        _fill(ins, parts, offsets, escape)
        instructions.append(ins)
    return Dockerfile(path, text, instructions)


def _continues(line: str, escape: str) -> bool:
    body = line.rstrip("\r\n").rstrip()
    return body.endswith(escape) and not body.lstrip().startswith("#")


def _fill(ins: Instruction, parts: list[tuple[int, str]], offsets: list[int], escape: str) -> None:
    chunks: list[tuple[int, str]] = []  # (offset in file, text) of each line's argument part
    for n, (index, line) in enumerate(parts):
        body = line.rstrip("\r\n")
        begin = 0
        if n == 0:
            begin = line.index(line.strip()[0]) + len(ins.keyword)
        if _continues(line, escape):
            body = body.rstrip()[:-1]
        chunks.append((offsets[index] + begin, body[begin:]))
    ins.args = "".join(text for _, text in chunks).strip()
    ins.json_form = ins.keyword in ("RUN", "CMD", "ENTRYPOINT", "COPY", "ADD", "SHELL", "VOLUME") and _is_json_list(ins.args)
    pattern = _JSON_STRING if ins.json_form else _WORD
    for offset, text in chunks:
        for match in pattern.finditer(text):
            ins.tokens.append(Token(match.group(0), offset + match.start(), offset + match.end(), json=ins.json_form))


def _is_json_list(args: str) -> bool:
    if not args.startswith("["):
        return False
    try:
        value = json.loads(args)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def expand(text: str, variables: Mapping[str, str]) -> str:
    """``$VAR``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:+alternative}`` as the builders expand them."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        value = variables.get(name, "")
        if match.group(2) == "-":
            return value or match.group(3)
        if match.group(2) == "+":
            return match.group(3) if value else ""
        return value

    return _VARIABLE.sub(one, text)


# --- edits: each returns the whole new text ----------------------------------------------------


def replace_tokens(text: str, replacements: Mapping[Token, str]) -> str:
    """``text`` with each token's words replaced (quoted as the token was)."""
    out = text
    for token in sorted(replacements, key=lambda t: t.start, reverse=True):
        new = replacements[token]
        if token.json:
            written = json.dumps(new)
        elif token.text[:1] in "\"'" and token.text[-1:] == token.text[:1]:
            written = token.text[0] + new + token.text[0]
        else:
            written = new if re.fullmatch(r"[^\s\"'\\$`]+", new) else shlex.quote(new)
        out = out[: token.start] + written + out[token.end :]
    return out


def insert_before(text: str, ins: Instruction, new_lines: list[str]) -> str:
    """``new_lines`` (whole instructions) on lines of their own just above ``ins``, indented like it."""
    lines = text.splitlines(keepends=True)
    line = lines[ins.first_line]
    indent = line[: len(line) - len(line.lstrip())]
    newline = "\r\n" if line.endswith("\r\n") else "\n"
    block = "".join(f"{indent}{new}{newline}" for new in new_lines)
    return "".join(lines[: ins.first_line]) + block + "".join(lines[ins.first_line :])


def insert_after(text: str, ins: Instruction, new_lines: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    line = lines[ins.first_line]
    indent = line[: len(line) - len(line.lstrip())]
    block = "".join(f"{indent}{new}\n" for new in new_lines)
    return "".join(lines[: ins.end_line]) + block + "".join(lines[ins.end_line :])


def remove_token(text: str, token: Token) -> str:
    """``text`` without one shell word; a line left holding only a continuation goes too."""
    line_start = text.rfind("\n", 0, token.start) + 1
    line_end = text.find("\n", token.end)
    line_end = len(text) if line_end == -1 else line_end + 1
    rest = (text[line_start : token.start] + text[token.end : line_end]).strip()
    if rest in ("\\", "`", "") and text[line_start : token.start].strip() == "":
        return text[:line_start] + text[line_end:]
    end = token.end
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[: token.start] + text[end:]
