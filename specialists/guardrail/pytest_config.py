"""Reading pytest's configuration, to catch a patch that narrows what pytest collects or runs.

pytest can be told to skip tests without touching a test file: ``addopts = -k "not slow"``, a
narrower ``testpaths`` or ``python_files``, a new ``norecursedirs``. This module reads the pytest
options of pyproject.toml, setup.cfg, pytest.ini and tox.ini before and after the patch and reports
what got narrower. It also tells which lines are about pytest at all, so the ``-k``/``-m`` line
rules fire only where those flags are pytest's.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from collections import Counter

from specialists.guardrail.diff import ChangedFile
from specialists.guardrail.rules import format_finding

# Lines that run or configure pytest, where ``-k``, ``-m`` and ``--deselect`` are pytest's own flags.
PYTEST_SECTION = re.compile(r"^\[(?:pytest|tool:pytest|tool\.pytest\.ini_options|tool\.pytest)\]$")
PYTEST_CONTEXT = re.compile(r"(?i)(?:\b|_)(?:pytest|py\.test|addopts|tox|nox)(?:\b|_)")


def _pytest_options(path: str, text: str | None) -> dict[str, list[str]] | None:
    """The pytest options of a config file, each as a list of words (None: none / unreadable)."""
    if not text:
        return None
    if path.endswith(".toml"):
        try:
            table = tomllib.loads(text).get("tool", {}).get("pytest", {})
        except tomllib.TOMLDecodeError:
            return None
        table = table.get("ini_options", table)
        return {k: [w for item in (v if isinstance(v, list) else [v]) for w in str(item).split()] for k, v in table.items() if k != "ini_options"} or None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    for section in ("pytest", "tool:pytest"):
        if parser.has_section(section):
            return {k: v.split() for k, v in parser.items(section)}
    return None


# pytest's defaults, so a key the base did not set is compared with what pytest did before.
_DEFAULT_COLLECTION = {"python_files": ["test_*.py", "*_test.py"], "python_classes": ["Test"], "python_functions": ["test"]}
# Folders that hold no tests of the project (pytest's own defaults and build or tool output).
_HARMLESS_NORECURSE = {".*", "*.egg", "_darcs", "build", "CVS", "dist", "node_modules", "venv", ".venv", "{arch}", ".git", ".tox", "__pycache__", "site-packages"}


def config_findings(f: ChangedFile) -> list[str]:
    """What the patch narrows in the pytest options of ``f``, if ``f`` is a file pytest reads them from."""
    if not re.search(r"(?:^|/)(?:pyproject\.toml|setup\.cfg|pytest\.ini|\.pytest\.ini|tox\.ini)$", f.path):
        return []
    old = _pytest_options(f.path, f.old) or {}
    new = _pytest_options(f.path, f.new)
    if new is None:
        return []
    findings: list[str] = []

    def report(key: str, reason: str) -> None:
        line = next((ln.first for ln in f.lines if re.match(rf"\s*{re.escape(key)}\s*=", ln.text)), None)
        findings.append(format_finding("tests-skipped", f.path, line, reason, f"{key} = {' '.join(new.get(key, []))}"))

    if "testpaths" in new and ("testpaths" not in old or not set(old["testpaths"]) <= set(new["testpaths"])):
        report("testpaths", "narrows the folders pytest collects from")
    for key, default in _DEFAULT_COLLECTION.items():
        if key in new and not set(old.get(key, default)) <= set(new[key]):
            report(key, "narrows which files, classes or functions pytest collects")
    if "norecursedirs" in new and set(new["norecursedirs"]) - set(old.get("norecursedirs", [])) - _HARMLESS_NORECURSE:
        report("norecursedirs", "stops pytest from collecting folders")
    added_opts = Counter(new.get("addopts", [])) - Counter(old.get("addopts", []))
    if any(re.match(r"^(?:-k|-m|--deselect|--ignore|--ignore-glob|--co|--collect-only)(?:=|$)", o) for o in added_opts):
        report("addopts", "skips or deselects tests")
    return findings
