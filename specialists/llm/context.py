"""Context assembly: what the model sees of a failure, under a token budget.

The stable prefix (system prompt, repository overview) is the same for every call of one repair
and is cached by the server; the task carries what changes: the distilled log, the failing
tests, the environment's drift from the last green build, what was tried, and the files the
failure points at (whole when small, else the windows around the lines it names).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from models import TestReport, TriedFix
from specialists.llm.prompts import load
from specialists.repo_view import RepoView

# Files that say how the build is set up: worth showing whenever they exist and fit.
_MANIFEST = re.compile(
    r"(?:^|/)(?:requirements[\w.-]*\.(?:txt|in)|constraints[\w.-]*\.txt|pyproject\.toml|setup\.cfg|setup\.py|tox\.ini|pytest\.ini|"
    r"Pipfile|Dockerfile[\w.-]*|[\w.-]*\.dockerfile|docker-compose[\w.-]*\.ya?ml|[\w.-]*\.tf|\.env\.[\w]+|[\w.-]*\.env|\.greenline\.toml)$"
)
# "File "/tmp/x/src/app/core.py", line 12" (Python), "app/core.py:12:" (pytest, compilers, linters)
_FRAME = re.compile(r"File \"([^\"]+)\", line (\d+)|(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.[A-Za-z]{1,5}):(\d+)")
_INSTALLED = re.compile(r"Successfully installed (.+)$")
_SATISFIED = re.compile(r"Requirement already satisfied: ([A-Za-z0-9._-]+)[^(]*\(([^)]+)\)")
_DIST_VERSION = re.compile(r"^([A-Za-z0-9._-]+?)-(\d[\w.+!-]*)$")
_TREE_LIMIT = 400
_WINDOW = 30


def estimate_tokens(text: str) -> int:
    """A deliberately high estimate (3 characters a token; code and logs run 3 to 4)."""
    return math.ceil(len(text) / 3)


@dataclass
class Context:
    system: str
    overview: str
    task: str
    files: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.system) + estimate_tokens(self.overview) + estimate_tokens(self.task)


def assemble(
    view: RepoView,
    *,
    cmd: str,
    excerpt: str,
    tests: TestReport | None,
    tried: Sequence[TriedFix],
    known_good_env: str | None,
    log_lines: Sequence[str],
    rules_said: str | None,
    allow_source_changes: bool,
    budget_tokens: int,
) -> Context:
    system = load("fixer-system").text
    overview = load("fixer-overview").render(build_dir=view.subdir or ".", tree=_tree(view.paths()))
    parts = {
        "cmd": cmd,
        "rules_said": f"Greenline's rule playbooks concluded: {rules_said}\n" if rules_said else "",
        "excerpt": excerpt.strip() or "(the build printed nothing)",
        "tests": _tests(tests),
        "environment": environment_drift(known_good_env, log_lines),
        "tried": _tried(tried),
        "source_policy": (
            "The repository's policy allows changes to source files when the cause is in them."
            if allow_source_changes
            else "The repository's policy allows changes to dependency manifests, CI and environment configuration, "
            "Dockerfiles and Terraform only: do not edit source files; if the fix needs one, escalate."
        ),
    }
    fixed = estimate_tokens(system + overview + load("fixer-task").text + "".join(parts.values()))
    files, shown = _files(view, excerpt, max(0, budget_tokens - fixed))
    return Context(system=system, overview=overview, task=load("fixer-task").render(**parts, files=files), files=shown)


def referenced_paths(view: RepoView, text: str) -> list[tuple[str, int]]:
    """Repository files (and line numbers) named by the log: traceback frames, ``path:line``
    references. Absolute sandbox paths map to the repository file with the longest common suffix."""
    paths = view.paths()
    found: dict[tuple[str, int], None] = {}
    for match in _FRAME.finditer(text):
        raw, line = (match[1], match[2]) if match[1] else (match[3], match[4])
        if "site-packages/" in raw or raw.startswith("<"):
            continue
        path = _in_repo(raw, paths, view.subdir)
        if path is not None:
            found.setdefault((path, int(line)), None)
    return list(found)


def environment_drift(known_good_env: str | None, log_lines: Iterable[str]) -> str:
    """Distributions whose version differs between the last green build (a ``pip freeze``) and
    what the failing build installed, as pip reported it."""
    failing: dict[str, str] = {}
    for line in log_lines:
        if match := _INSTALLED.search(line):
            for item in match[1].split():
                if dist := _DIST_VERSION.match(item):
                    failing[canonicalize_name(dist[1])] = dist[2]
        elif match := _SATISFIED.search(line):
            failing.setdefault(canonicalize_name(match[1]), match[2])
    if not known_good_env:
        listed = ", ".join(f"{k} {v}" for k, v in sorted(failing.items()))
        return f"No record of the last green build. Installed by the failing build: {listed or 'nothing reported'}."
    green: dict[str, str] = {}
    for line in known_good_env.splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and name and not name.startswith("#"):
            green[canonicalize_name(name)] = version.strip()
    changed = [f"{n}: {green[n]} (last green) -> {v} (failing)" for n, v in sorted(failing.items()) if n in green and green[n] != v]
    added = [f"{n}: new in the failing build ({v})" for n, v in sorted(failing.items()) if n not in green]
    lines = changed + added
    return "\n".join(lines) if lines else "No version differences found between the last green build and the failing one."


def _tree(paths: list[str]) -> str:
    shown = paths[:_TREE_LIMIT]
    more = f"\n... and {len(paths) - len(shown)} more" if len(paths) > len(shown) else ""
    return "\n".join(shown) + more


def _tests(tests: TestReport | None) -> str:
    if tests is None:
        return "No per-test results (the build wrote no JUnit XML)."
    lines = [f"{tests.collected} collected, {tests.passed} passed, {tests.failed} failed, {tests.errors} errors, {tests.skipped} skipped"]
    lines += [f"FAILED {t}: {tests.failure_messages.get(t, '')}" for t in tests.failed_ids[:20]]
    return "\n".join(lines)


def _tried(tried: Sequence[TriedFix]) -> str:
    if not tried:
        return "Nothing was tried yet."
    return "\n\n".join(f"Attempt {i}: {t.summary}\nOutcome: {t.outcome}\n{t.diff[:3000]}" for i, t in enumerate(tried, 1))


def _files(view: RepoView, excerpt: str, budget_tokens: int) -> tuple[str, list[str]]:
    """The files the failure names (windows around the named lines when a file is big), then the
    build's manifests, until the budget is spent."""
    wanted: dict[str, list[int]] = {}
    for path, line in referenced_paths(view, excerpt):
        wanted.setdefault(path, []).append(line)
    for path in view.paths():
        if _MANIFEST.search(path) and _near_build(path, view.subdir):
            wanted.setdefault(path, [])
    blocks: list[str] = []
    shown: list[str] = []
    left = budget_tokens
    for path, lines in wanted.items():
        text = view.read(path)
        if text is None:
            continue
        block = f'<file path="{path}">\n{text}\n</file>'
        if estimate_tokens(block) > left and lines:
            around = ",".join(str(n) for n in sorted(set(lines)))
            block = f'<file path="{path}" around-lines="{around}">\n{_windows(text, lines)}\n</file>'
        if estimate_tokens(block) > left:
            continue
        blocks.append(block)
        shown.append(path)
        left -= estimate_tokens(block)
    return ("\n\n".join(blocks) if blocks else "(none could be shown within the budget)"), shown


def _windows(text: str, lines: list[int]) -> str:
    all_lines = text.splitlines()
    keep = sorted({n for line in lines for n in range(max(1, line - _WINDOW), min(len(all_lines), line + _WINDOW) + 1)})
    out: list[str] = []
    previous = 0
    for n in keep:
        if n != previous + 1:
            out.append("...")
        out.append(all_lines[n - 1])
        previous = n
    return "\n".join(out)


def _in_repo(raw: str, paths: list[str], subdir: str) -> str | None:
    raw = raw.replace("\\", "/")
    if raw in paths:
        return raw
    joined = f"{subdir}/{raw}" if subdir else raw
    if joined in paths:
        return joined
    best, best_len = None, 0
    for path in paths:
        if raw.endswith("/" + path) and len(path) > best_len:
            best, best_len = path, len(path)
    return best


def _near_build(path: str, subdir: str) -> bool:
    """Manifests at the root or in the build's folder (not every service's of a monorepo)."""
    folder = path.rpartition("/")[0]
    return folder in ("", subdir) or (bool(subdir) and subdir.startswith(folder + "/"))


def naive_prompt(view: RepoView, raw_log: str) -> str:
    """What the seed article's loop sends: the whole log and every file, whole. For benchmarks."""
    files = "\n\n".join(f'<file path="{p}">\n{view.read(p)}\n</file>' for p in view.paths() if view.read(p) is not None)
    return f"{load('fixer-system').text}\n<log>\n{raw_log}\n</log>\n{files}"
