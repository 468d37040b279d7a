"""The build context: what ``docker build`` sends to the builder, i.e. the repository's files under
the context folder less what ``.dockerignore`` excludes, and the closest match of a missing path."""

from __future__ import annotations

import difflib
import posixpath
import re
from dataclasses import dataclass

from specialists.repo_view import RepoView


def clean(path: str) -> str:
    """A context-relative path as the builders resolve it ('' for the context itself)."""
    cleaned = posixpath.normpath("/" + path.strip()).lstrip("/")
    return "" if cleaned in (".", "") else cleaned


def has_wildcards(path: str) -> bool:
    return bool(re.search(r"[*?\[]", path))


class IgnoreRules:
    """``.dockerignore`` semantics: Go ``filepath.Match`` patterns plus ``**``, ``!`` re-includes,
    the last matching line wins, and a folder's exclusion covers what is inside it."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[re.Pattern[str], bool]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = clean(line[1:].strip() if negate else line)
            if pattern:
                self.rules.append((re.compile(_translate(pattern)), negate))

    def excluded(self, path: str) -> bool:
        parts = path.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        result = False
        for pattern, negate in self.rules:
            if any(pattern.fullmatch(c) for c in candidates):
                result = not negate
        return result


def _translate(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1 : end]
                out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
                i = end + 1
        elif c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Match:
    path: str  # context-relative
    is_dir: bool
    score: float
    moved: bool  # same name, another folder


class BuildContext:
    def __init__(self, view: RepoView, root: str, dockerfile: str) -> None:
        self.root = clean(root)
        prefix = f"{self.root}/" if self.root else ""
        # BuildKit reads <Dockerfile>.dockerignore first, then the context's own.
        ignore_file = next((p for p in (f"{dockerfile}.dockerignore", f"{prefix}.dockerignore") if view.exists(p)), None)
        self.ignore_file = ignore_file
        self.ignore = IgnoreRules((view.read(ignore_file) or "") if ignore_file else "")
        present = [p[len(prefix) :] for p in view.paths() if p.startswith(prefix)]
        self.ignored = {p for p in present if self.ignore.excluded(p)}
        self.files = sorted(set(present) - self.ignored)
        dirs = {posixpath.dirname(p) for p in self.files}
        for d in list(dirs):
            while d:
                d = posixpath.dirname(d)
                dirs.add(d)
        dirs.discard("")
        self.dirs = sorted(dirs)
        self._files, self._dirs = set(self.files), set(self.dirs)

    def exists(self, source: str) -> bool:
        path = clean(source)
        if has_wildcards(path):
            return bool(self.glob(path))
        return path == "" or path in self._files or path in self._dirs

    def glob(self, pattern: str) -> list[str]:
        regex = re.compile(_translate(clean(pattern)))
        return [p for p in self.files + self.dirs if regex.fullmatch(p)]

    def excluded_by_ignore(self, source: str) -> bool:
        """The path is in the repository but .dockerignore keeps it out of the context."""
        path = clean(source)
        return any(p == path or p.startswith(path + "/") for p in self.ignored)

    def closest(self, source: str, want_dir: bool | None = None) -> list[Match]:
        """Existing paths that ``source`` most likely meant, best first: the same name moved
        elsewhere (the more trailing folders it keeps, the likelier; then the nearer its folder's
        name), then near spellings (difflib on the name and on the whole path)."""
        path = clean(source)
        name = posixpath.basename(path)
        parts = path.split("/")
        pool = [(p, False) for p in self.files] + [(d, True) for d in self.dirs]
        if want_dir is not None:
            pool = [(p, is_dir) for p, is_dir in pool if is_dir == want_dir]
        matches: list[Match] = []
        for candidate, is_dir in pool:
            cand_name = posixpath.basename(candidate)
            if cand_name == name:
                kept = _common_suffix(parts, candidate.split("/"))
                folder = difflib.SequenceMatcher(None, posixpath.dirname(path), posixpath.dirname(candidate)).ratio()
                matches.append(Match(candidate, is_dir, 2.0 + kept + 0.5 * folder, moved=True))
                continue
            whole = difflib.SequenceMatcher(None, path, candidate).ratio()
            named = difflib.SequenceMatcher(None, name, cand_name).ratio()
            if named >= 0.75 or whole >= 0.85:
                matches.append(Match(candidate, is_dir, 0.6 * named + 0.4 * whole, moved=False))
        matches.sort(key=lambda m: (-m.score, m.path))
        return matches


def _common_suffix(a: list[str], b: list[str]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n
