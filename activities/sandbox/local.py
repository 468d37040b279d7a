"""The ``local`` sandbox: a fresh virtualenv per build inside the checkout, the build in a
process group of its own (killed whole on timeout or cancellation), secrets scrubbed from its
environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from activities.sandbox.base import BuildCancelled, BuildSpec, Outcome, ShouldStop, Tick, BUILD_SCRIPT, pip_environment, pytest_environment, scrubbed_environment

_GRACE_S = 5.0

# Commands the build finds before the real ones on its PATH. ``docker``: the legacy builder
# leaves the container of a failed step behind unless told ``--force-rm``, and a worker runs
# many failing builds; everything else goes to the real docker unchanged.
_SHIMS = {
    "docker": """#!/bin/sh
here=$(cd "$(dirname "$0")" && pwd)
PATH=$(printf '%s' "$PATH" | tr ':' '\\n' | grep -vxF "$here" | paste -sd: -)
export PATH
case "$1" in
  build) shift; exec docker build --force-rm "$@" ;;
  image) if [ "$2" = build ]; then shift 2; exec docker image build --force-rm "$@"; fi ;;
esac
exec docker "$@"
""",
}


class LocalSandbox:
    kind = "local"

    def __init__(self, python: str | None = None, maker: str | None = None) -> None:
        # The interpreter the build's virtualenv is made from: the worker's base Python.
        self.python = python or getattr(sys, "_base_executable", None) or sys.executable
        # The one that makes it, running virtualenv: the worker's own.
        self.maker = maker or sys.executable
        self._seeds: list[str] | None = None

    def check(self) -> None:
        return None

    def seeds(self) -> list[str]:
        """virtualenv's options for the pip and setuptools wheels the interpreter's ensurepip
        carries (what ``python -m venv`` installs); none if it has no ensurepip (virtualenv's own
        wheels then)."""
        if self._seeds is None:
            try:
                found = subprocess.run(
                    [self.python, "-c", "import ensurepip, os; print(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled'))"],
                    capture_output=True, text=True, timeout=30,
                )  # fmt: skip
                bundled = Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None
            except (OSError, subprocess.TimeoutExpired):
                bundled = None
            self._seeds = []
            wheels = sorted(bundled.glob("*.whl")) if bundled is not None and bundled.is_dir() else []
            for wheel in wheels:
                name, version = wheel.name.split("-")[:2]
                if name in ("pip", "setuptools"):
                    self._seeds += [f"--{name}", version]
            if self._seeds:
                self._seeds += ["--extra-search-dir", str(bundled)]
        return self._seeds

    def run(self, spec: BuildSpec, tick: Tick, should_stop: ShouldStop) -> Outcome:
        venv = spec.checkout / ".greenline" / "venv"
        bindir = venv / "bin"
        shims = _write_shims(spec.checkout / ".greenline" / "shims")
        env = scrubbed_environment()
        env.update(spec.env)
        env.update(
            {
                "VIRTUAL_ENV": str(venv),
                "PATH": f"{bindir}{os.pathsep}{shims}{os.pathsep}{env.get('PATH', os.defpath)}",
                "GREENLINE_BUILD_ID": spec.build_id,
                **pytest_environment(spec, str),
                **pip_environment(spec, str),
            }
        )
        if spec.pip_cache is not None:
            spec.pip_cache.mkdir(parents=True, exist_ok=True)
            env["PIP_CACHE_DIR"] = str(spec.pip_cache)
        # Making the venv is part of the build: it is what a fresh CI runner does too. virtualenv
        # makes the one ``python -m venv`` would, with the pip and setuptools ensurepip carries,
        # in under a second (it keeps them installed in its app data); venv takes 7-8 s.
        seeds = " ".join(f'"{option}"' for option in self.seeds())
        script = f'"{self.maker}" -m virtualenv --quiet --no-periodic-update {seeds} --python "{self.python}" "{venv}" && {{ {BUILD_SCRIPT}; }}'
        env["GREENLINE_BUILD_CMD"] = spec.cmd
        started = time.monotonic()
        with spec.log_path.open("wb") as log:
            proc = subprocess.Popen(
                ["bash", "-c", script],
                cwd=spec.checkout / spec.subdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            details = {"sandbox": self.kind, "pgid": proc.pid, "build_id": spec.build_id}
            try:
                while True:
                    try:
                        code = proc.wait(timeout=1.0)
                        return Outcome(code, False, time.monotonic() - started)
                    except subprocess.TimeoutExpired:
                        pass
                    tick(details)
                    if should_stop():
                        raise BuildCancelled(f"build {spec.build_id} cancelled")
                    if time.monotonic() - started > spec.timeout_s:
                        _kill_group(proc.pid, reap=proc.poll)
                        proc.wait()
                        log.write(f"\n[greenline] build timed out after {spec.timeout_s}s and was killed\n".encode())
                        return Outcome(-1, True, time.monotonic() - started)
            finally:
                if proc.poll() is None:
                    _kill_group(proc.pid, reap=proc.poll)
                    proc.wait()

    def cleanup(self, details: Mapping[str, object]) -> None:
        build_id = details.get("build_id")
        if isinstance(build_id, str):
            for pid in _processes_of(build_id):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _processes_of(build_id: str) -> list[int]:
    """Every process still carrying ``build_id`` in its environment (immune to pid reuse, and
    finds children that outlived their group leader)."""
    marker = f"GREENLINE_BUILD_ID={build_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _kill_group(pgid: int, grace: float = _GRACE_S, reap: Callable[[], object] = lambda: None) -> None:
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        # A dead leader stays a zombie, and keeps its group alive, until its parent waits for it:
        # without ``reap`` every kill would sit out the whole grace period.
        reap()
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _write_shims(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in _SHIMS.items():
        path = folder / name
        path.write_text(text)
        path.chmod(0o755)
    return folder
