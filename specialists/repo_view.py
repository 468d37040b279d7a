"""A read-only view of the repository at the base commit, with a patch laid over it."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from models import FileChange, Patch


class RepoView:
    """Files of the repo as the next build would see them: base commit + cumulative patch.

    ``files`` maps repo-relative POSIX paths to text; binary or huge files may be absent.
    ``subdir`` is the folder the build runs in (monorepos); lookups are relative to the root.
    """

    def __init__(self, files: Mapping[str, str], subdir: str = "", base_patch: Patch | None = None) -> None:
        self._base = dict(files)
        self.subdir = subdir.strip("/")
        self._edits: dict[str, str | None] = {}
        if base_patch:
            for change in base_patch.changes:
                self._edits[change.path] = change.content

    def read(self, path: str) -> str | None:
        if path in self._edits:
            return self._edits[path]
        return self._base.get(path)

    def exists(self, path: str) -> bool:
        return self.read(path) is not None

    def paths(self) -> list[str]:
        present = {p for p in self._base if self._edits.get(p, "") is not None}
        present |= {p for p, c in self._edits.items() if c is not None}
        return sorted(present)

    def in_build_dir(self, name: str) -> str:
        """Path of ``name`` relative to the repo root, given the build's folder."""
        return f"{self.subdir}/{name}" if self.subdir else name

    def with_changes(self, changes: Mapping[str, str | None]) -> Patch:
        """A cumulative patch: the base patch plus ``changes``, diffed against the base commit."""
        edits = dict(self._edits)
        edits.update(changes)
        file_changes = [FileChange(path=p, content=c) for p, c in sorted(edits.items())]
        return Patch(changes=file_changes, diff=unified_diff(self._base, edits))


def unified_diff(base: Mapping[str, str], edits: Mapping[str, str | None]) -> str:
    chunks: list[str] = []
    for path in sorted(edits):
        old, new = base.get(path), edits[path]
        chunks.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                fromfile="/dev/null" if old is None else f"a/{path}",
                tofile="/dev/null" if new is None else f"b/{path}",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in chunks)
