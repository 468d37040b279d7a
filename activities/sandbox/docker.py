"""The ``docker`` sandbox: one locked-down container per build, removed whatever happens.

Non-root user, all capabilities dropped, no-new-privileges, memory/CPU/pids limits; network
only when the build step downloads packages, and then with the host's CA bundle and pip
configuration mounted read-only so pip works behind this environment's proxy.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import docker
import docker.errors
from docker.models.containers import Container

from activities.errors import sandbox_unavailable
from activities.sandbox.base import BuildCancelled, BuildSpec, Outcome, ShouldStop, Tick, BUILD_SCRIPT, pip_environment, pytest_environment, scrubbed_environment

DEFAULT_IMAGE = "greenline-sandbox:bookworm"
# The build's virtualenv: made by virtualenv where the image has it (under a second, from the
# distribution's wheels, with what ``python3 -m venv`` would put in it: pip and setuptools),
# else by venv (7-8 s of ensurepip; images built before virtualenv was in them).
_MAKE_VENV = (
    "if python3 -c 'import virtualenv' 2>/dev/null; "
    "then python3 -m virtualenv --quiet --no-periodic-update --no-wheel /tmp/venv; "
    "else python3 -m venv /tmp/venv; fi"
)
_SANDBOX_UID = 10001
_WORKSPACE = "/workspace"
_PIP_CACHE = "/tmp/pip-cache"
_NEEDS_NETWORK = re.compile(r"\b(?:pip3?|uv|poetry|pdm|pipenv|conda|npm|yarn|pnpm|apt-get|apt|apk|curl|wget|git\s+(?:clone|fetch|pull)|go\s+(?:get|mod)|cargo|mvn|gradle)\b")
# Host variables a build may rely on that are neither secret nor host-specific (pip's settings
# are passed separately, see ``_host_network_config``).
_PASS_THROUGH = re.compile(r"^(?:HTTPS?_PROXY$|NO_PROXY$|https?_proxy$|no_proxy$|LANG$|LC_|TZ$|CI$)")


def needs_network(cmd: str) -> bool:
    return bool(_NEEDS_NETWORK.search(cmd))


class DockerSandbox:
    kind = "docker"

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        image: str = DEFAULT_IMAGE,
        memory: str = "2g",
        cpus: float = 2.0,
        pids: int = 1024,
        network: str = "auto",
    ) -> None:
        self._client = client
        self.image = image
        self.memory, self.cpus, self.pids, self.network = memory, cpus, pids, network

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            try:
                self._client = docker.from_env(timeout=30)
            except docker.errors.DockerException as err:
                raise sandbox_unavailable(
                    f"the docker daemon does not answer ({err}); start it (sudo infra/ensure-docker.sh) or use --sandbox local"
                ) from err
        return self._client

    def check(self) -> None:
        try:
            self.client.ping()
        except docker.errors.DockerException as err:
            raise sandbox_unavailable(
                f"the docker daemon does not answer ({err}); start it (sudo infra/ensure-docker.sh) or use --sandbox local"
            ) from err
        try:
            self.client.images.get(self.image)
        except docker.errors.ImageNotFound:
            raise sandbox_unavailable(
                f"the sandbox image {self.image} is missing; build it offline with infra/build-sandbox-image.sh"
            ) from None

    def run(self, spec: BuildSpec, tick: Tick, should_stop: ShouldStop) -> Outcome:
        self.check()
        uid, gid = (_SANDBOX_UID, _SANDBOX_UID) if os.getuid() == 0 else (os.getuid(), os.getgid())
        network = self.network == "on" or (self.network == "auto" and needs_network(spec.cmd))
        cache = spec.pip_cache if network else None
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            _chown_tree(spec.checkout, uid, gid)
            if cache is not None:
                _chown_tree(cache, uid, gid)
        env = {k: v for k, v in scrubbed_environment().items() if _PASS_THROUGH.search(k)}
        env.update(spec.env)
        env.update(
            {
                "HOME": "/tmp/home",
                "VIRTUAL_ENV": "/tmp/venv",
                "PATH": "/tmp/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                **pytest_environment(spec, lambda path: f"{_WORKSPACE}/{path.relative_to(spec.checkout)}"),
                **pip_environment(spec, lambda path: f"{_WORKSPACE}/{path.relative_to(spec.checkout)}"),
                "GREENLINE_BUILD_CMD": spec.cmd,
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        volumes = {str(spec.checkout): {"bind": _WORKSPACE, "mode": "rw"}}
        if network:
            volumes.update(_host_network_config(env))
        if cache is not None:
            volumes[str(cache)] = {"bind": _PIP_CACHE, "mode": "rw"}
            env["PIP_CACHE_DIR"] = _PIP_CACHE
        workdir = f"{_WORKSPACE}/{spec.subdir}".rstrip("/")
        started = time.monotonic()
        container: Container | None = None
        # A container of an earlier attempt of this step that never got to heartbeat (its worker
        # died between create and the first tick) carries the same step label: remove it first.
        step = spec.build_id.rsplit(".", 1)[0]
        for stale in self.client.containers.list(all=True, sparse=True, filters={"label": f"greenline.step={step}"}):
            _remove(stale)
        try:
            container = self.client.containers.create(
                self.image,
                command=["bash", "-c", f'mkdir -p "$HOME" && {_MAKE_VENV} && {{ {BUILD_SCRIPT}; }}'],
                working_dir=workdir,
                user=f"{uid}:{gid}",
                environment=env,
                volumes=volumes,
                network_mode="bridge" if network else "none",
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                mem_limit=self.memory,
                nano_cpus=int(self.cpus * 1e9),
                pids_limit=self.pids,
                labels={"greenline.build": spec.build_id, "greenline.step": step, "greenline.workflow": spec.workflow_id},
                detach=True,
            )
            details = {"sandbox": self.kind, "container": container.id, "build_id": spec.build_id}
            tick(details)
            container.start()
            pump = threading.Thread(target=_pump_logs, args=(container, spec.log_path), daemon=True)
            pump.start()
            while True:
                try:
                    result = container.wait(timeout=1)
                    pump.join(timeout=30)
                    return Outcome(int(result.get("StatusCode", -1)), False, time.monotonic() - started)
                except Exception as err:  # the docker SDK signals a wait timeout with a requests error
                    if not _is_timeout(err):
                        raise
                tick(details)
                if should_stop():
                    raise BuildCancelled(f"build {spec.build_id} cancelled")
                if time.monotonic() - started > spec.timeout_s:
                    container.kill()
                    pump.join(timeout=30)
                    with spec.log_path.open("ab") as log:
                        log.write(f"\n[greenline] build timed out after {spec.timeout_s}s and was killed\n".encode())
                    return Outcome(-1, True, time.monotonic() - started)
        finally:
            if container is not None:
                _remove(container)

    def cleanup(self, details: Mapping[str, object]) -> None:
        build_id = details.get("build_id")
        if not isinstance(build_id, str):
            return
        # sparse: no inspect per container, so one removed meanwhile does not fail the listing
        for container in self.client.containers.list(all=True, sparse=True, filters={"label": f"greenline.build={build_id}"}):
            _remove(container)


def remove_workflow_containers(workflow_id: str) -> int:
    """Remove every build container of one repair; the number removed (0 when docker is absent).

    Run where the builds ran once their worker has stopped (an interrupted or cancelled repair),
    for the container a build created just before its process died, before it could heartbeat.
    """
    try:
        client = docker.from_env()
    except docker.errors.DockerException:
        return 0
    try:
        found = client.containers.list(all=True, sparse=True, filters={"label": f"greenline.workflow={workflow_id}"})
        for container in found:
            _remove(container)
        return len(found)
    except docker.errors.DockerException:
        return 0
    finally:
        client.close()


def _pump_logs(container: Container, path: Path) -> None:
    with path.open("ab") as log:
        for chunk in container.logs(stream=True, follow=True, stdout=True, stderr=True):
            log.write(chunk)


def _is_timeout(err: Exception) -> bool:
    text = f"{type(err).__name__} {err}".lower()
    return "timeout" in text or "timed out" in text


def _remove(container: Container) -> None:
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, uid, gid)
        for name in filenames + dirnames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def _host_network_config(env: dict[str, str]) -> dict[str, dict[str, str]]:
    """Read-only mounts (and env) that let pip in the container reach the index like the host:
    the CA bundle (this environment's proxy re-signs TLS) and the host's network pip settings.
    Host-local sources (``file://`` indexes, find-links folders) stay out: they are the host's,
    and mounting them would widen what a build can read."""
    volumes: dict[str, dict[str, str]] = {}
    cafile = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or ssl.get_default_verify_paths().cafile
    if cafile and Path(cafile).is_file():
        volumes[cafile] = {"bind": cafile, "mode": "ro"}
        env.update({"PIP_CERT": cafile, "SSL_CERT_FILE": cafile, "REQUESTS_CA_BUNDLE": cafile})
    for key, value in host_pip_settings().items():
        remote = [item for item in value.split() if not item.startswith(("file:", "/", "."))]
        if remote:
            env[f"PIP_{key.upper().replace('-', '_')}"] = " ".join(remote)
    return volumes


@cache
def host_pip_settings() -> dict[str, str]:
    """The host's effective pip settings (config files and ``PIP_*``), secrets left out."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    settings: dict[str, str] = {}
    for line in out.splitlines():
        match = re.match(r"^[^.]*\.([\w-]+)='(.*)'$", line.strip())
        if match and match.group(1) not in ("cert", "client-cert") and "@" not in match.group(2):
            settings[match.group(1)] = match.group(2)
    return settings
