"""The content-addressed artifact store."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlparse

from activities.artifacts import ArtifactStore


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_bytes_round_trip_by_content_address(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    data = b"build log\n\xff\x00 binary too\n"
    ref = store.put_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    assert (ref.sha256, ref.size) == (sha, len(data))
    assert store.get(ref) == data
    assert store.path(ref) == tmp_path / "store" / sha[:2] / sha
    assert Path(urlparse(ref.uri).path) == store.path(ref)


def test_the_same_content_is_stored_once(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    first, second = store.put_bytes(b"same"), store.put_bytes(b"same")
    other = store.put_bytes(b"other")
    assert first == second
    assert other.sha256 != first.sha256
    assert stored_files(tmp_path) == sorted([store.path(first), store.path(other)])  # no temp files left


def test_a_file_is_copied_in_streamed_and_shares_the_address_of_its_bytes(tmp_path: Path) -> None:
    source = tmp_path / "build.log"
    data = bytes(range(256)) * 12_289  # a bit over 3 MB: several 1 MB chunks and a partial one
    source.write_bytes(data)
    store = ArtifactStore(tmp_path / "store")
    ref = store.put_file(source)
    assert ref.sha256 == hashlib.sha256(data).hexdigest() and ref.size == len(data)
    assert store.get(ref) == data
    assert source.read_bytes() == data  # the caller still reads the log afterwards
    assert store.put_bytes(data) == ref
    assert store.put_file(source) == ref
    assert stored_files(tmp_path / "store") == [store.path(ref)]


def test_an_empty_log_is_an_artifact_too(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.touch()
    store = ArtifactStore(tmp_path / "store")
    ref = store.put_file(empty)
    assert ref.size == 0 and ref.sha256 == hashlib.sha256(b"").hexdigest()
    assert store.get(ref) == b""


def test_a_second_store_on_the_same_root_reads_what_the_first_wrote(tmp_path: Path) -> None:
    ref = ArtifactStore(tmp_path).put_bytes(b"shared")
    assert ArtifactStore(str(tmp_path)).get(ref) == b"shared"
