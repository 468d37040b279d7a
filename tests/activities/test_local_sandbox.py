"""The local sandbox: a build in a process group of its own, killed whole, with a scrubbed env."""

from __future__ import annotations

import ensurepip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from activities.sandbox import BuildCancelled, BuildSpec
from activities.sandbox.local import LocalSandbox, _kill_group


@pytest.fixture
def sandbox(tmp_path: Path) -> LocalSandbox:
    """A sandbox whose virtualenv maker only makes the bin folder (its last argument): these
    tests are about the build's process and environment (one test below makes a real one)."""
    fake = tmp_path / "fake-python"
    fake.write_text('#!/bin/bash\nmkdir -p "${@: -1}/bin"\n')
    fake.chmod(0o755)
    return LocalSandbox(python=str(fake), maker=str(fake))


def spec_for(tmp_path: Path, cmd: str, *, timeout_s: int = 60, build_id: str = "wf-1.act-1.1") -> BuildSpec:
    checkout = tmp_path / "checkout"
    (checkout / ".greenline").mkdir(parents=True, exist_ok=True)
    return BuildSpec(
        build_id=build_id,
        workflow_id="wf-1",
        cmd=cmd,
        checkout=checkout,
        subdir="",
        log_path=tmp_path / "build.log",
        junit_path=checkout / ".greenline" / "junit.xml",
        timeout_s=timeout_s,
    )


def alive_in_group(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that still run (zombies awaiting their reaper are dead)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def never_stop() -> bool:
    return False


def test_exit_code_and_log(sandbox: LocalSandbox, tmp_path: Path) -> None:
    spec = spec_for(tmp_path, "echo hi && echo oops >&2 && exit 3")
    outcome = sandbox.run(spec, lambda details: None, never_stop)
    assert (outcome.exit_code, outcome.timed_out) == (3, False)
    assert spec.log_path.read_text().splitlines() == ["hi", "oops"]


def test_the_build_runs_in_its_subdir_with_pytest_writing_junit(sandbox: LocalSandbox, tmp_path: Path) -> None:
    spec = spec_for(tmp_path, 'pwd && echo "$PYTEST_ADDOPTS"')
    spec.subdir = "svc"
    (spec.checkout / "svc").mkdir()
    assert sandbox.run(spec, lambda details: None, never_stop).exit_code == 0
    assert spec.log_path.read_text().splitlines() == [str(spec.checkout / "svc"), f"--junitxml={spec.junit_path} -o junit_family=xunit1"]


def test_a_timeout_kills_the_whole_process_group(sandbox: LocalSandbox, tmp_path: Path) -> None:
    ticks: list[dict[str, object]] = []
    spec = spec_for(tmp_path, "(sleep 30; echo late) & sleep 30 & echo started; wait", timeout_s=2)
    outcome = sandbox.run(spec, ticks.append, never_stop)
    assert outcome.timed_out and outcome.exit_code == -1
    assert 2 <= outcome.duration_s < 10
    pgid = ticks[-1]["pgid"]
    assert isinstance(pgid, int) and ticks[-1]["build_id"] == spec.build_id
    assert alive_in_group(pgid) == []
    log = spec.log_path.read_text()
    assert "started" in log and "late" not in log
    assert "[greenline] build timed out after 2s and was killed" in log


def test_should_stop_cancels_the_build_and_kills_it(sandbox: LocalSandbox, tmp_path: Path) -> None:
    ticks: list[dict[str, object]] = []
    spec = spec_for(tmp_path, "sleep 30 & sleep 30; echo finished")
    with pytest.raises(BuildCancelled, match=spec.build_id):
        sandbox.run(spec, ticks.append, lambda: len(ticks) >= 1)
    pgid = ticks[0]["pgid"]
    assert isinstance(pgid, int) and alive_in_group(pgid) == []
    assert "finished" not in spec.log_path.read_text()


def test_killing_a_group_does_not_sit_out_the_grace_period_once_it_is_gone() -> None:
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    started = time.monotonic()
    _kill_group(proc.pid, grace=3.0, reap=proc.poll)
    assert time.monotonic() - started < 2.5  # the dead leader was reaped, not waited on for 3 s
    assert proc.returncode == -signal.SIGTERM


def test_secrets_and_credentials_never_reach_the_build(sandbox: LocalSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_API_TOKEN", "tok-123-secret")
    monkeypatch.setenv("PIP_INDEX_URL", "https://alice:hunter2@pypi.internal/simple/")
    monkeypatch.setenv("GREENLINE_ANTHROPIC_KEY", "sk-greenline")
    monkeypatch.setenv("HARMLESS_SETTING", "kept")
    spec = spec_for(tmp_path, "env")
    spec.env = {"FROM_SPEC": "given"}
    assert sandbox.run(spec, lambda details: None, never_stop).exit_code == 0
    env = dict(line.split("=", 1) for line in spec.log_path.read_text().splitlines() if "=" in line)
    assert "MY_API_TOKEN" not in env and "PIP_INDEX_URL" not in env and "GREENLINE_ANTHROPIC_KEY" not in env
    log = spec.log_path.read_text()
    assert "tok-123-secret" not in log and "hunter2" not in log and "sk-greenline" not in log
    assert env["HARMLESS_SETTING"] == "kept" and env["FROM_SPEC"] == "given"
    assert env["GREENLINE_BUILD_ID"] == spec.build_id
    assert env["VIRTUAL_ENV"] == str(spec.checkout / ".greenline" / "venv")
    assert env["PATH"].startswith(f"{spec.checkout}/.greenline/venv/bin{os.pathsep}")


def test_the_build_gets_a_fresh_virtualenv(tmp_path: Path) -> None:
    # Its own python and pip, and none of the worker's packages.
    spec = spec_for(tmp_path, 'python -c "import sys; print(sys.prefix)" && python -m pip --version && ! python -c "import pydantic" 2>/dev/null')
    assert LocalSandbox().run(spec, lambda details: None, never_stop).exit_code == 0
    prefix, pip = spec.log_path.read_text().splitlines()[:2]
    assert prefix == str(spec.checkout / ".greenline" / "venv")
    assert f"from {prefix}/lib/" in pip
    assert pip.startswith(f"pip {ensurepip.version()} ")  # the pip ``python -m venv`` would install


def test_cleanup_kills_what_a_crashed_attempt_left_running(tmp_path: Path) -> None:
    def leftover(build_id: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "GREENLINE_BUILD_ID": build_id}
        # start_new_session: outlives its group like an orphan of a dead worker would.
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env, start_new_session=True)

    mine, other = leftover("wf-1.act-1.1"), leftover("wf-1.act-1.10")
    try:
        LocalSandbox().cleanup({"sandbox": "local", "build_id": "wf-1.act-1.1"})
        assert mine.wait(timeout=5) == -9
        assert other.poll() is None  # another build's process (a prefix of its id is not its id)
        LocalSandbox().cleanup({"sandbox": "local"})  # details without a build id: nothing to do
        assert other.poll() is None
    finally:
        for proc in (mine, other):
            proc.kill()
            proc.wait()


def test_scrubber_drops_secrets_but_keeps_ca_bundles_and_identities() -> None:
    from activities.sandbox.base import scrubbed_environment

    env = scrubbed_environment({
        "GITHUB_TOKEN": "ghp_x", "DB_PASSWORD": "p", "SENTRY_DSN": "https://k@sentry/1",
        "MIRROR": "https://user:pw@mirror.local/simple", "GREENLINE_STATE_DIR": "/s",
        "SSL_CERT_FILE": "/etc/ssl/certs/ca.crt", "PIP_CERT": "/etc/ssl/certs/ca.crt", "GIT_AUTHOR_NAME": "Ada", "LANG": "C.UTF-8",
    })
    assert env == {"SSL_CERT_FILE": "/etc/ssl/certs/ca.crt", "PIP_CERT": "/etc/ssl/certs/ca.crt", "GIT_AUTHOR_NAME": "Ada", "LANG": "C.UTF-8"}
