"""Config files the build opens that are not there, while a template of them sits next to them
(``settings.yaml.example`` and kin): the file is created from the template, unless the template
holds secrets (then the repair escalates: Greenline never writes secrets)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from models import Category, Diagnosis
from specialists.env_config import NAME, looks_secret
from specialists.repo_view import RepoView
from specialists.secrets import SECRET_NAME

_PATH = r"['\"`]?([^\s'\"`]+?)['\"`]?"
_MISSING_FILE = [
    # FileNotFoundError / OSError from open(), pathlib, tomllib, yaml: ``...: 'path'``
    re.compile(r"No such file or directory:\s*['\"]([^'\"]+)['\"]"),
    # Shell tools: ``cat: config/app.toml: No such file or directory``
    re.compile(r"(?:^|\s)([\w.~/-]*[\w-]\.[\w.-]+):\s+No such file or directory"),
    re.compile(r"\b(?:config(?:uration)?|settings) file\s+" + _PATH + r"\s+(?:was\s+)?(?:not found|does not exist|is missing|missing)", re.I),
    re.compile(r"\b(?:could not|cannot|can't|unable to|failed to) (?:find|open|read|load) (?:the )?(?:config(?:uration)?|settings) file:?\s+" + _PATH + r"(?:[\s:;,]|$)", re.I),
]
_TEMPLATE_MARKS = ("example", "sample", "template", "dist", "tmpl", "default", "defaults")
_EMPTY = re.compile(r"^(?:|null|none|~|\"\"|'')$", re.I)
_KEY_VALUE = re.compile(r"^\s*(?:-\s+|export\s+)?[\"']?([A-Za-z_][\w.-]*)[\"']?\s*[:=]\s*(.*?)\s*,?\s*$")


def missing_files(log_lines: list[str]) -> list[str]:
    found: dict[str, None] = {}
    for line in log_lines:
        for pattern in _MISSING_FILE:
            for match in pattern.finditer(line):
                found.setdefault(match.group(1).rstrip(".,;:"), None)
    return list(found)


def template_names(path: str) -> list[str]:
    """Where a template of ``path`` would sit: ``app.toml.example``, ``app.example.toml``, ..."""
    folder, name = posixpath.split(path)
    stem, ext = posixpath.splitext(name)
    names = [f"{name}.{mark}" for mark in _TEMPLATE_MARKS] + [f"{name}.in"]
    if ext:
        names += [f"{stem}.{mark}{ext}" for mark in _TEMPLATE_MARKS]
    return [posixpath.join(folder, n) for n in names]


def repo_paths(view: RepoView, raw: str) -> list[str]:
    """The repo paths a path from the log may mean: relative to the build's folder, then to the
    root; an absolute path (the CI's checkout) by its trailing parts, longest first."""
    if raw.startswith("/"):
        parts = [p for p in raw.split("/") if p]
        return [posixpath.join(*parts[k:]) for k in range(len(parts))]
    candidates = [posixpath.normpath(view.in_build_dir(raw)), posixpath.normpath(raw)]
    return [c for c in dict.fromkeys(candidates) if not c.startswith("../") and c not in (".", "..")]


def secret_keys(text: str) -> list[str]:
    """Keys of ``key: value`` / ``key = value`` / ``KEY=value`` lines that hold a secret (or a
    placeholder for one): an empty value is no secret to copy."""
    keys: dict[str, None] = {}
    for line in text.splitlines():
        if line.lstrip().startswith(("#", ";", "//", "[")):
            continue
        match = _KEY_VALUE.match(line)
        if match is None:
            continue
        key, value = match.group(1), match.group(2)
        value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        named_secret = bool(SECRET_NAME.search(key.rsplit(".", 1)[-1]))
        if (named_secret and not _EMPTY.match(value)) or (not named_secret and looks_secret(key, value)):
            keys.setdefault(key, None)
    return list(keys)


def diagnose(view: RepoView, log_lines: list[str]) -> Iterator[Diagnosis]:
    creations: dict[str, str] = {}  # missing file -> its template
    evidence: list[str] = []
    for raw in missing_files(log_lines):
        for candidate in repo_paths(view, raw):
            # A file the repo has is missing for another reason (the working directory, a
            # step that deletes it): not this playbook's. Never recreate it.
            if view.exists(candidate):
                break
            template = next((t for t in template_names(candidate) if view.exists(t)), None)
            if template is not None:
                creations.setdefault(candidate, template)
                evidence += [line.strip() for line in log_lines if raw in line][:2]
                break
    if not creations:
        return
    summary = ", ".join(f"{path} from {template}" for path, template in creations.items())
    secrets = {template: secret_keys(view.read(template) or "") for template in creations.values()}
    secrets = {template: keys for template, keys in secrets.items() if keys}
    if secrets:
        named = "; ".join(f"{', '.join(keys)} in {template}" for template, keys in secrets.items())
        yield Diagnosis(
            category=Category.ENVIRONMENT,
            specialist=NAME,
            summary=f"config file(s) {', '.join(creations)} missing; their template holds secrets",
            evidence=_unique(evidence)[:6],
            confidence=0.8,
            escalate_reason=(
                f"{', '.join(creations)} is missing and its template holds secret-looking keys ({named}); Greenline never "
                "writes secrets. Provide the file through your CI's secret store (a secret file, or a step that writes "
                "it from secret variables) before the build runs, then rerun."
            ),
        )
        return
    yield Diagnosis(
        category=Category.ENVIRONMENT,
        specialist=NAME,
        summary=f"create {summary}",
        evidence=_unique(evidence)[:6],
        confidence=0.8,
        patch=view.with_changes({path: view.read(template) or "" for path, template in creations.items()}),
    )


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
