"""The artifact store: big payloads (logs, diffs) live here, workflow history carries references."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from models import ArtifactRef


class ArtifactStore:
    """Content-addressed files under ``root`` (a local folder; shared storage on a cluster)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def put_file(self, source: Path) -> ArtifactRef:
        """Copy ``source`` into the store (streamed: a 200 MB log never sits in memory); ``source`` stays."""
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        target = self._path(digest.hexdigest())
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=target.parent)
            os.close(fd)
            with source.open("rb") as src, open(tmp, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            os.replace(tmp, target)
        return ArtifactRef(sha256=digest.hexdigest(), size=size, uri=target.as_uri())

    def put_bytes(self, data: bytes) -> ArtifactRef:
        sha = hashlib.sha256(data).hexdigest()
        target = self._path(sha)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        return ArtifactRef(sha256=sha, size=len(data), uri=target.as_uri())

    def get(self, ref: ArtifactRef) -> bytes:
        return self._path(ref.sha256).read_bytes()

    def path(self, ref: ArtifactRef) -> Path:
        return self._path(ref.sha256)

    def _path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha
