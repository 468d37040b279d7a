"""What every sandbox shares: the build spec, the outcome, and the environment scrubber."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from specialists.secrets import SECRET_NAME, URL_CREDENTIALS

# Greenline's own settings and the worker's Python setup are not the build's business.
_NOT_FOR_BUILDS = re.compile(r"^(?:GREENLINE_|TEMPORAL_|ANTHROPIC_|OTEL_|VIRTUAL_ENV$|PYTHONPATH$|PYTHONHOME$|PYTEST_ADDOPTS$|CONDA_)")


def scrubbed_environment(source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The host environment without secrets, credentials in URLs, or Greenline's own settings."""
    env = dict(os.environ if source is None else source)
    return {
        k: v
        for k, v in env.items()
        if not SECRET_NAME.search(k) and not _NOT_FOR_BUILDS.search(k) and not URL_CREDENTIALS.search(v)
    }


@dataclass
class BuildSpec:
    build_id: str
    workflow_id: str
    cmd: str
    checkout: Path
    subdir: str
    log_path: Path
    junit_path: Path
    timeout_s: int
    env: dict[str, str] = field(default_factory=dict)
    # A file of test ids, one a line: pytest runs only these, in this order (triage reruns).
    # The ``greenline_select`` plugin sits next to it.
    select_path: Path | None = None
    # pip constraints every ``pip install`` of the build honours (``PIP_CONSTRAINT``): the
    # versions a dependency bisection holds fixed.
    constraints_path: Path | None = None
    # A pip cache shared with other builds (of this repository, or of this worker).
    pip_cache: Path | None = None

    @property
    def freeze_path(self) -> Path:
        """Where the build's ``pip freeze`` lands once the build step has run."""
        return self.checkout / ".greenline" / "freeze.txt"


SELECT_PLUGIN = "greenline_select"

# The build step, then what it installed (``pip freeze`` of the ``python`` on its PATH, into
# ``$GREENLINE_FREEZE``): the environment a later bisection compares with the last green one.
# The build's exit code is the script's.
BUILD_SCRIPT = (
    'bash -c "$GREENLINE_BUILD_CMD"; code=$?; '
    'python -m pip freeze --disable-pip-version-check >"$GREENLINE_FREEZE" 2>/dev/null || rm -f "$GREENLINE_FREEZE"; '
    "exit $code"
)


def pytest_environment(spec: BuildSpec, inside: Callable[[Path], str]) -> dict[str, str]:
    """What tells pytest to write JUnit XML (with file names, so test ids are node ids) and,
    for a rerun, to run only the selected tests. ``inside`` maps a checkout path to the path
    the build sees."""
    args = [f"--junitxml={inside(spec.junit_path)}", "-o", "junit_family=xunit1"]
    env: dict[str, str] = {}
    if spec.select_path is not None:
        args += ["-p", SELECT_PLUGIN]
        env["GREENLINE_SELECT"] = inside(spec.select_path)
        env["PYTHONPATH"] = inside(spec.select_path.parent)
    env["PYTEST_ADDOPTS"] = shlex.join(args)
    return env


def pip_environment(spec: BuildSpec, inside: Callable[[Path], str]) -> dict[str, str]:
    """What points every pip of the build at the constraints and the shared cache, and the
    freeze at its file."""
    env = {"GREENLINE_FREEZE": inside(spec.freeze_path)}
    if spec.constraints_path is not None:
        env["PIP_CONSTRAINT"] = inside(spec.constraints_path)
    return env


@dataclass
class Outcome:
    exit_code: int
    timed_out: bool
    duration_s: float


class BuildCancelled(Exception):
    """The activity was cancelled or its worker is shutting down; the sandbox is already gone."""


# Called about once a second with progress details (container id, process group) to heartbeat.
Tick = Callable[[dict[str, object]], None]
# True when the build must stop now (cancellation, worker shutdown).
ShouldStop = Callable[[], bool]


class Sandbox(Protocol):
    kind: str

    def check(self) -> None:
        """Raise ``SandboxUnavailable`` with what to do when this sandbox cannot run here."""

    def run(self, spec: BuildSpec, tick: Tick, should_stop: ShouldStop) -> Outcome: ...

    def cleanup(self, details: Mapping[str, object]) -> None:
        """Remove what a previous, crashed attempt of the same build left running."""
