"""What a patch changes, file by file: base content, new content, and the lines added or removed.

A patch carries the new content of each file and a unified diff. Only the change is judged, so each
file's base version is needed: the caller's copy read at the base commit when it has one, otherwise a
copy rebuilt by undoing the diff's hunks on the new content (a lying diff could fool that, and a file
the diff does not explain is judged as entirely added). The new content is indexed as logical lines,
backslash continuations joined and Unicode normalised, so spacing, line breaks and invisible
characters cannot hide what a line does.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from models import Patch

# Comment lines in shell, YAML, TOML, ini and JS-like files: they run nothing.
COMMENT = re.compile(r"^\s*(?:#|//|;)")
# Zero-width characters NFKC keeps, which could split a word a rule looks for.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


@dataclass(frozen=True)
class Line:
    """A logical line of a changed file (backslash continuations joined)."""

    index: int  # in ChangedFile.lines
    first: int
    last: int
    text: str
    added: bool
    section: str
    comment: bool


@dataclass
class ChangedFile:
    """A file the patch touches, with its base and new content and its indexed lines."""

    path: str
    old: str | None  # None: the file did not exist
    new: str | None  # None: the patch deletes it
    old_known: bool = True  # False: the diff does not explain the file, so all of it counts as added
    lines: list[Line] = field(default_factory=list)
    removed: list[tuple[int, str]] = field(default_factory=list)  # (line in the base version, text)


def changed_files(patch: Patch, base: Mapping[str, str | None] | None) -> list[ChangedFile]:
    """The files ``patch`` really changes, indexed; ``base`` wins over the base rebuilt from the diff."""
    rebuilt = _rebuild_base(patch)
    files = []
    for change in patch.changes:
        path = change.path
        if base is not None and path in base:
            old, known = base[path], True
        elif path in rebuilt:
            old, known = rebuilt[path], True
        else:
            # The diff does not explain this file: judge every line of it as added.
            old, known = None, False
        f = ChangedFile(path=path, old=old, new=change.content, old_known=known)
        if f.old == f.new and known:
            continue
        _index(f)
        files.append(f)
    return files


def _rebuild_base(patch: Patch) -> dict[str, str | None]:
    """Base content of each file the diff explains, by undoing its hunks on the new content."""
    contents = {c.path: c.content for c in patch.changes}
    rebuilt: dict[str, str | None] = {}
    for path, old_missing, hunks in _parse_diff(patch.diff):
        if path not in contents:
            continue
        if old_missing:
            rebuilt[path] = None
            continue
        new_lines = (contents[path] or "").splitlines()
        old_lines: list[str] = []
        at = 0
        ok = True
        for new_start, new_side, old_side in hunks:
            start = max(new_start - 1, 0) if new_side else new_start
            if start < at or new_lines[start : start + len(new_side)] != new_side:
                ok = False
                break
            old_lines.extend(new_lines[at:start])
            old_lines.extend(old_side)
            at = start + len(new_side)
        if ok:
            old_lines.extend(new_lines[at:])
            rebuilt[path] = "".join(line + "\n" for line in old_lines)
    return rebuilt


def _parse_diff(diff: str) -> Iterator[tuple[str, bool, list[tuple[int, list[str], list[str]]]]]:
    """Each file of a unified diff: its path, whether it is new, and its hunks as
    ``(first new line, new-side lines, old-side lines)``."""
    path, old_missing, hunks = None, False, []
    old_name = ""
    current: tuple[int, list[str], list[str]] | None = None
    for line in diff.splitlines():
        if line.startswith("--- "):
            if path is not None:
                yield path, old_missing, hunks
            old_name, path, hunks, current = line[4:].strip(), None, [], None
        elif line.startswith("+++ ") and current is None:
            new_name = line[4:].strip()
            old_missing = old_name == "/dev/null"
            name = old_name if new_name == "/dev/null" else new_name
            path = name[2:] if name.startswith(("a/", "b/")) else name
        elif line.startswith("@@"):
            match = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@", line)
            current = (int(match.group(1)) if match else 0, [], [])
            hunks.append(current)
        elif current is not None and line[:1] in (" ", "+", "-"):
            if line[0] in " +":
                current[1].append(line[1:])
            if line[0] in " -":
                current[2].append(line[1:])
    if path is not None:
        yield path, old_missing, hunks


def _index(f: ChangedFile) -> None:
    """Logical lines of the new content, which of them the patch adds, and the removed lines."""
    old_lines = (f.old or "").splitlines() if f.old_known else []
    new_lines = (f.new or "").splitlines()
    added, f.removed = _line_changes(old_lines, new_lines)
    section = ""
    i = 0
    while i < len(new_lines):
        first = i
        parts = [_normal(new_lines[i])]
        while parts[-1].endswith("\\") and i + 1 < len(new_lines):
            parts[-1] = parts[-1][:-1]
            i += 1
            parts.append(_normal(new_lines[i]).strip())
        text = " ".join(parts)
        header = text.strip()
        if re.fullmatch(r"\[[^\]\n]+\]", header):
            section = header.replace(" ", "")
        f.lines.append(Line(len(f.lines), first + 1, i + 1, text, any(n in added for n in range(first + 1, i + 2)), section, bool(COMMENT.match(text))))
        i += 1


def _line_changes(old: list[str], new: list[str]) -> tuple[set[int], list[tuple[int, str]]]:
    """Numbers of the new lines the patch adds, and the old lines it removes (1-based)."""
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_mid, new_mid = old[head : len(old) - tail], new[head : len(new) - tail]
    added: set[int] = set()
    removed: list[tuple[int, str]] = []
    if len(old_mid) * len(new_mid) <= 4_000_000:
        matcher = difflib.SequenceMatcher(None, old_mid, new_mid)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("replace", "insert"):
                added.update(range(head + j1 + 1, head + j2 + 1))
            if tag in ("replace", "delete"):
                removed.extend((head + i + 1, old_mid[i]) for i in range(i1, i2))
        return added, removed
    # Too big to align: a line is added when the new text holds it more often than the old one.
    budget = Counter(old_mid)
    for j, line in enumerate(new_mid):
        if budget[line] > 0:
            budget[line] -= 1
        else:
            added.add(head + j + 1)
    spare = Counter(new_mid)
    for i, line in enumerate(old_mid):
        if spare[line] > 0:
            spare[line] -= 1
        else:
            removed.append((head + i + 1, line))
    return added, removed


def _normal(line: str) -> str:
    """Same text, minus the disguises: compatibility forms, odd spaces, invisible characters."""
    return unicodedata.normalize("NFKC", line).translate(_INVISIBLE)
