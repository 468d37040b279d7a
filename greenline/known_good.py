"""The environment of the last green build of each build step, recorded where the repository
keeps its own metadata (``.git/greenline/known-good/``: never the work tree, never a commit).

Every repair whose build passes records that build's ``pip freeze``; a later repair of the same
step (same folder, same command) without ``--known-good-env`` starts from it, so a dependency
bisection has something to compare with even when nobody kept a freeze.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from activities import git


@dataclass(frozen=True)
class KnownGood:
    freeze: str
    recorded_at: datetime
    path: Path


def _path(root: Path, subdir: str, cmd: str) -> Path:
    common = Path(git.git("rev-parse", "--git-common-dir", cwd=root))
    if not common.is_absolute():
        common = root / common
    key = hashlib.sha256(f"{subdir}\0{cmd}".encode()).hexdigest()[:16]
    return common / "greenline" / "known-good" / f"{key}.txt"


def record(root: Path, subdir: str, cmd: str, freeze: str) -> Path:
    """Keep ``freeze`` as the last green environment of this build step (atomically)."""
    path = _path(root, subdir, cmd)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(freeze)
    partial.replace(path)
    return path


def load(root: Path, subdir: str, cmd: str) -> KnownGood | None:
    path = _path(root, subdir, cmd)
    try:
        freeze = path.read_text()
        recorded = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None
    return KnownGood(freeze=freeze, recorded_at=recorded, path=path) if freeze.strip() else None
