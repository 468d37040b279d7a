"""Git plumbing. The user's work tree and current branch are only ever read; fixes reach the
user's repository as a new branch pushed from a throw-away clone."""

from __future__ import annotations

import subprocess
from pathlib import Path

from models import Patch

_IDENTITY = ["-c", "user.name=Greenline", "-c", "user.email=greenline@localhost", "-c", "commit.gpgsign=false"]


class GitError(RuntimeError):
    pass


def git(*args: str, cwd: str | Path | None = None, check: bool = True) -> str:
    proc = subprocess.run(["git", *_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def toplevel(path: str | Path) -> Path:
    return Path(git("rev-parse", "--show-toplevel", cwd=path))


def head(repo: str | Path) -> tuple[str, str | None]:
    commit = git("rev-parse", "--verify", "HEAD^{commit}", cwd=repo)
    branch = git("symbolic-ref", "--quiet", "--short", "HEAD", cwd=repo, check=False) or None
    return commit, branch


def checkout(repo: str | Path, commit: str, dest: Path) -> Path:
    """A fresh clone of ``repo`` at ``commit`` in ``dest``; objects are copied, never hard-linked,
    so nothing done to the clone can reach the user's repository."""
    git("clone", "--quiet", "--no-hardlinks", "--no-checkout", str(repo), str(dest))
    git("checkout", "--quiet", "--detach", commit, cwd=dest)
    return dest


def read_file(repo: str | Path, commit: str, path: str) -> str | None:
    """The text of ``path`` at ``commit``; ``None`` when the commit has no such file."""
    proc = subprocess.run(["git", "cat-file", "blob", f"{commit}:{path}"], cwd=repo, capture_output=True, timeout=60)
    return proc.stdout.decode("utf-8", errors="replace") if proc.returncode == 0 else None


def tracked_files(repo: str | Path, commit: str, max_bytes: int = 512 * 1024) -> dict[str, str]:
    """Text of every file at ``commit`` up to ``max_bytes`` (binary files are left out)."""
    listing = git("ls-tree", "-r", "-l", "--full-tree", commit, cwd=repo)
    wanted = []
    for row in listing.splitlines():
        meta, _, path = row.partition("\t")
        parts = meta.split()
        if len(parts) == 4 and parts[1] == "blob" and parts[3].isdigit() and int(parts[3]) <= max_bytes:
            wanted.append(path)
    files: dict[str, str] = {}
    if not wanted:
        return files
    # One cat-file process for all blobs: a repo with thousands of files stays fast.
    request = "".join(f"{commit}:{path}\n" for path in wanted).encode()
    out = subprocess.run(["git", "cat-file", "--batch"], cwd=repo, input=request, capture_output=True, timeout=300).stdout
    pos = 0
    for path in wanted:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        pos = header_end + 1
        if len(header) < 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        data = out[pos : pos + size]
        pos += size + 1
        if b"\0" not in data[:8192]:
            files[path] = data.decode("utf-8", errors="replace")
    return files


def apply_patch(workdir: Path, patch: Patch) -> None:
    root = workdir.resolve()
    for change in patch.changes:
        target = (root / change.path).resolve()
        if not target.is_relative_to(root):
            raise GitError(f"patch path {change.path} leaves the repository")
        if change.content is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(change.content)
