"""Prompts are files, ``NAME.vN.md`` beside this module; the highest version of a name is used
and its ``name.vN`` id is recorded with every call, so an answer can be traced to its prompt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

_DIR = Path(__file__).parent / "prompts"
_FILE = re.compile(r"^(?P<name>[a-z0-9-]+)\.v(?P<version>\d+)\.md$")


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.name}.v{self.version}"

    def render(self, **fields: str) -> str:
        """The text with ``$field`` placeholders filled; a missing field is an error, and the
        values are inserted verbatim (a ``$`` in a log stays a ``$``)."""
        return Template(self.text).substitute(fields)


@cache
def load(name: str) -> Prompt:
    versions = [
        (int(m["version"]), path) for path in _DIR.iterdir() if (m := _FILE.match(path.name)) and m["name"] == name
    ]
    if not versions:
        raise LookupError(f"no prompt file {name}.vN.md in {_DIR}")
    version, path = max(versions)
    return Prompt(name, version, path.read_text(encoding="utf-8"))
