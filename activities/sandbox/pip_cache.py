"""The pip cache builds share, so the reruns, rebuilds and bisection builds of a repair download
each package once.

Scope ``repository`` (the default) gives each repository a cache of its own: a build can write
into its cache, and what one repository's build writes must never be what another repository's
build installs. ``worker`` shares one cache between every build of the worker (fastest, for
workers that only ever build one team's code, and for the test suite). Caches nobody used for
``max_age_s`` are removed when a build next asks for one.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Scope = Literal["repository", "worker"]

_DAY = 24 * 3600.0


@dataclass(frozen=True)
class PipCache:
    root: Path
    scope: Scope = "repository"
    max_age_s: float = 7 * _DAY

    def for_repository(self, repo_path: str) -> Path:
        """The cache a build of ``repo_path`` uses (created, its use recorded)."""
        if self.scope == "worker":
            name = "shared"
        else:
            name = hashlib.sha256(str(Path(repo_path).resolve()).encode()).hexdigest()[:16]
        self.prune()
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        path.touch()  # the folder's mtime says when a build last used it
        return path

    def prune(self) -> list[Path]:
        """Remove the caches no build used for ``max_age_s``; the ones removed."""
        if not self.root.is_dir():
            return []
        removed = []
        cutoff = time.time() - self.max_age_s
        for entry in self.root.iterdir():
            try:
                if entry.is_dir() and entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(entry)
            except OSError:
                continue
        return removed
