"""What a build installed and what it may install: run_build records the build's ``pip freeze``,
honours pip constraints (a bisection's probes) and shares a pip cache between builds; real pip,
the real index, both sandboxes."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.artifacts import ArtifactStore
from activities.repair import RepairActivities, read_freeze
from activities.sandbox.docker import DockerSandbox
from activities.sandbox.local import LocalSandbox
from activities.sandbox.pip_cache import PipCache
from models import BuildRequest, BuildResult, SandboxKind
from tests.git_repos import commit_files

CMD = "pip install -q -r requirements.txt && python -c 'import six; print(\"six is\", six.__version__)'"
SANDBOXES = [
    pytest.param(SandboxKind.LOCAL, id="local"),
    pytest.param(SandboxKind.DOCKER, id="docker", marks=pytest.mark.docker),
]


def run_build(tmp_path: Path, repo: Path, commit: str, sandbox: SandboxKind, cmd: str = CMD, constraints: str | None = None,
              cache: PipCache | None = None) -> tuple[BuildResult, str]:
    activities = RepairActivities(
        ArtifactStore(tmp_path / "artifacts"),
        {SandboxKind.LOCAL: LocalSandbox(), SandboxKind.DOCKER: DockerSandbox()},
        resolve_import=lambda name: None,
        scratch_dir=tmp_path,
        pip_cache=cache,
    )
    request = BuildRequest(workflow_id="wf", repo_path=str(repo), commit=commit, cmd=cmd, sandbox=sandbox, constraints=constraints)
    result = ActivityEnvironment().run(activities.run_build, request)
    return result, activities.store.get(result.log).decode(errors="replace")


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_constraints_hold_a_version_back_and_the_freeze_records_what_was_installed(tmp_path: Path, sandbox: SandboxKind) -> None:
    repo = tmp_path / "repo"
    commit = commit_files(repo, {"requirements.txt": "six\n"})
    cache = PipCache(tmp_path / "cache")
    held, log = run_build(tmp_path, repo, commit, sandbox, constraints="six==1.15.0\n", cache=cache)
    assert held.passed, log
    assert "six is 1.15.0" in log
    assert held.environment is not None and "six==1.15.0" in held.environment.splitlines()
    # The same build without constraints takes the index's newest six, from the same cache.
    free, log = run_build(tmp_path, repo, commit, sandbox, cache=cache)
    assert free.passed, log
    assert free.environment is not None
    newest = next(line for line in free.environment.splitlines() if line.startswith("six=="))
    assert newest != "six==1.15.0" and f"six is {newest.split('==')[1]}" in log


class CachingIndex(ThreadingHTTPServer):
    """A PEP 503 index on 127.0.0.1 serving one wheel the way PyPI does (immutable, cacheable
    for a year), counting its downloads. (pip caches what an index allows it to: this machine's
    proxy sends no Cache-Control, so only a protocol-true index shows the cache at work; pip
    caches plain-http hosts only when they are ``--trusted-host``.)"""

    def __init__(self, filename: str, wheel: bytes) -> None:
        self.filename, self.wheel, self.downloads = filename, wheel, 0
        super().__init__(("127.0.0.1", 0), _IndexHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/simple/"


class _IndexHandler(BaseHTTPRequestHandler):
    server: CachingIndex

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        index = self.server
        if self.path.startswith("/simple/greenline-cache-probe"):
            digest = hashlib.sha256(index.wheel).hexdigest()
            self._send(f'<a href="/files/{index.filename}#sha256={digest}">{index.filename}</a>'.encode(), "text/html", "max-age=600")
        elif self.path == f"/files/{index.filename}":
            index.downloads += 1
            self._send(index.wheel, "application/octet-stream", "max-age=365000000, immutable, public")
        else:
            self.send_error(404)

    def _send(self, body: bytes, kind: str, cache_control: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache_control)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def probe_wheel() -> tuple[str, bytes]:
    info = "greenline_cache_probe-1.0.dist-info"
    files = {
        "greenline_cache_probe.py": "VALUE = 42\n",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: greenline-cache-probe\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in {**files, f"{info}/RECORD": record}.items():
            archive.writestr(name, text)
    return "greenline_cache_probe-1.0-py3-none-any.whl", buffer.getvalue()


def test_builds_of_a_repository_download_a_package_once(tmp_path: Path) -> None:
    index = CachingIndex(*probe_wheel())
    threading.Thread(target=index.serve_forever, daemon=True).start()
    try:
        repo = tmp_path / "repo"
        commit = commit_files(repo, {"requirements.txt": "greenline-cache-probe==1.0\n"})
        cmd = f"pip install -q --index-url {index.url} --trusted-host 127.0.0.1 -r requirements.txt && python -c 'import greenline_cache_probe'"
        cache = PipCache(tmp_path / "cache")
        for _ in range(2):
            result, log = run_build(tmp_path, repo, commit, SandboxKind.LOCAL, cmd=cmd, cache=cache)
            assert result.passed, log
        assert index.downloads == 1
        # Another repository does not read this one's cache (the worker-wide scope would share it).
        other = tmp_path / "other"
        commit = commit_files(other, {"requirements.txt": "greenline-cache-probe==1.0\n"})
        result, log = run_build(tmp_path, other, commit, SandboxKind.LOCAL, cmd=cmd, cache=cache)
        assert result.passed, log
        assert index.downloads == 2
    finally:
        index.shutdown()
        index.server_close()


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_failing_build_keeps_its_exit_code_and_still_records_its_environment(tmp_path: Path, sandbox: SandboxKind) -> None:
    repo = tmp_path / "repo"
    commit = commit_files(repo, {"requirements.txt": "six==1.16.0\n"})
    result, log = run_build(tmp_path, repo, commit, sandbox, cmd="pip install -q -r requirements.txt && exit 3", cache=PipCache(tmp_path / "cache"))
    assert result.exit_code == 3, log
    assert result.environment is not None and "six==1.16.0" in result.environment.splitlines()


def test_caches_are_per_repository_unless_shared_by_the_worker(tmp_path: Path) -> None:
    per_repo = PipCache(tmp_path / "cache")
    assert per_repo.for_repository("/src/a") != per_repo.for_repository("/src/b")
    assert per_repo.for_repository("/src/a") == per_repo.for_repository("/src/a/")
    shared = PipCache(tmp_path / "cache", scope="worker")
    assert shared.for_repository("/src/a") == shared.for_repository("/src/b")


def test_caches_nobody_used_for_a_while_are_removed(tmp_path: Path) -> None:
    cache = PipCache(tmp_path / "cache", max_age_s=3600)
    old, recent = cache.for_repository("/src/old"), cache.for_repository("/src/recent")
    (old / "http").mkdir()
    long_ago = time.time() - 7200
    os.utime(old, (long_ago, long_ago))
    assert cache.prune() == [old]
    assert not old.exists() and recent.is_dir()


def test_the_freeze_keeps_versions_and_drops_what_could_carry_credentials(tmp_path: Path) -> None:
    freeze = tmp_path / "freeze.txt"
    freeze.write_text("six==1.16.0\nprivate-lib @ https://user:token@git.example/lib.git\n-e git+https://git.example/x.git#egg=x\nattrs==24.2.0\n")
    assert read_freeze(freeze) == "six==1.16.0\nattrs==24.2.0\n"
    assert read_freeze(tmp_path / "absent.txt") is None
