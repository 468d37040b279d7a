"""Real git repositories for tests: one place that runs git and commits a set of files."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@localhost", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout.strip()


def commit_files(repo: Path, files: dict[str, str], message: str = "base") -> str:
    """``files`` written into a new repository at ``repo`` (branch ``main``) and committed;
    returns the commit."""
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")
