"""The ``greenline`` command as a user runs it: embedded dev server, JSON contract, exit codes,
bad input, approval from another terminal, Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from greenline import runtime
from models import SandboxKind
from tests.integration.helpers import EXAMPLE_COMMANDS, ROOT, example_repo, git, greenline_containers, processes_with

GREENLINE = [sys.executable, "-m", "greenline"]
CONTRACT_KEYS = {
    "workflow_id", "status", "classification", "branch", "patch", "attempts", "duration_s",
    "builds_run", "tokens", "cost_usd", "flaky_tests", "reason",
    # Triage (issue 3): how sure the classification is, the lines and reruns it rests on,
    # and for order-dependent tests the tests that pollute them.
    "confidence", "evidence", "polluters",
    # Dependency bisection (issue 4): distributions changed, culprits, probe builds.
    "bisection",
}


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TEMPORAL_ADDRESS"}
    env.update({"GREENLINE_STATE_DIR": str(tmp_path / "state"), **extra})
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GREENLINE, *args], env=env, capture_output=True, text=True, timeout=timeout)


def contract(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    data = json.loads(proc.stdout)
    assert set(data) == CONTRACT_KEYS, proc.stdout
    return data


@pytest.mark.integration
def test_repair_with_json_prints_the_contract_and_creates_the_branch(tmp_path: Path) -> None:
    repo = example_repo("missing-dependency", tmp_path)
    proc = run(["repair", str(repo), "--cmd", EXAMPLE_COMMANDS["missing-dependency"], "--sandbox", "local", "--auto-approve", "--json"], cli_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    data = contract(proc)
    assert data["status"] == "repaired" and data["classification"] == "dependency"
    assert data["attempts"] == 1 and data["builds_run"] == 2
    assert data["tokens"] == {"input": 0, "output": 0} and data["cost_usd"] == 0.0
    assert "+pyyaml==" in str(data["patch"]).lower()
    assert git(repo, "branch", "--list", str(data["branch"])) != ""
    assert "Temporal Web UI: http://127.0.0.1:" in proc.stderr
    # The embedded server was shut down with the last CLI that used it.
    assert not (tmp_path / "state" / "devserver.json").exists()


@pytest.mark.integration
def test_a_passing_build_is_green(tmp_path: Path) -> None:
    repo = example_repo("missing-dependency", tmp_path)
    proc = run(["repair", str(repo), "--cmd", "true", "--sandbox", "local", "--json"], cli_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    data = contract(proc)
    assert data["status"] == "green" and data["builds_run"] == 1 and data["branch"] is None


@pytest.mark.integration
def test_an_unrecognised_failure_escalates_without_a_worker_traceback(tmp_path: Path) -> None:
    """Offline (no key), the LLM engine is not configured: an expected state, said in the
    reason, not a warning with a traceback from the in-process worker."""
    repo = example_repo("missing-dependency", tmp_path)
    proc = run(["repair", str(repo), "--cmd", "echo something odd happened && false", "--sandbox", "local", "--json"], cli_env(tmp_path))
    assert proc.returncode == 3, proc.stderr
    data = contract(proc)
    assert data["status"] == "escalated" and "no playbook recognises this failure" in str(data["reason"])
    assert "Traceback" not in proc.stderr and "Completing activity as failed" not in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["repair", "/nonexistent/repo", "--cmd", "pytest"], "does not exist"),
        (["repair", "{tmp}", "--cmd", "pytest"], "not inside a git repository"),
        (["repair", "{repo}", "--cmd", "  "], "--cmd is empty"),
        (["repair", "{repo}", "--cmd", "pytest", "--known-good-env", "/nonexistent/freeze.txt"], "--known-good-env"),
        (["repair", "{repo}", "--cmd", "pytest", "--engine", "llm"], "--engine llm: the LLM engine is not configured: no API key: set ANTHROPIC_API_KEY"),
    ],
    ids=["missing-path", "not-a-repo", "empty-cmd", "missing-known-good-env", "llm-engine-without-a-key"],
)
def test_bad_input_exits_1_with_a_clear_message(tmp_path: Path, args: list[str], message: str) -> None:
    repo = example_repo("missing-dependency", tmp_path)
    plain = tmp_path / "plain"
    plain.mkdir()
    args = [a.format(tmp=plain, repo=repo) for a in args]
    proc = run([*args, "--json"], cli_env(tmp_path), timeout=60)
    assert proc.returncode == 1
    data = contract(proc)
    assert data["status"] == "failed" and message in str(data["reason"])
    assert message in proc.stderr
    assert git(repo, "status", "--porcelain") == "" and git(repo, "branch", "--list", "greenline/*") == ""


def test_docker_sandbox_without_a_daemon_is_refused(tmp_path: Path) -> None:
    repo = example_repo("missing-dependency", tmp_path)
    env = cli_env(tmp_path, DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock")
    proc = run(["repair", str(repo), "--cmd", "pytest", "--sandbox", "docker"], env, timeout=60)
    assert proc.returncode == 1
    assert "docker daemon does not answer" in proc.stderr and "--sandbox local" in proc.stderr


def test_a_build_that_runs_docker_is_not_sent_to_the_docker_sandbox(tmp_path: Path) -> None:
    """The docker sandbox has no daemon inside: asked for, it is refused before anything runs
    (whatever the daemon's state); under auto the build runs locally, and the CLI says why."""
    repo = example_repo("dockerfile-moved-file", tmp_path)
    cmd = EXAMPLE_COMMANDS["dockerfile-moved-file"]
    proc = run(["repair", str(repo), "--cmd", cmd, "--sandbox", "docker", "--json"], cli_env(tmp_path), timeout=60)
    assert proc.returncode == 1
    assert "the build step runs docker" in contract(proc)["reason"] and "--sandbox local" in proc.stderr
    assert runtime.resolve_sandbox(SandboxKind.AUTO, cmd) == (
        SandboxKind.LOCAL, "the build step runs docker (`docker build -q ...`), which the docker sandbox cannot"
    )
    assert git(repo, "status", "--porcelain") == "" and git(repo, "branch", "--list", "greenline/*") == ""


def test_a_build_script_that_runs_docker_is_not_sent_to_the_docker_sandbox(tmp_path: Path) -> None:
    """The same, with docker inside a script of the repository that the step runs, from a
    subfolder of it: the CLI reads the script where the build will run it."""
    repo = example_repo("dockerfile-moved-file", tmp_path)
    (repo / "ci").mkdir()
    (repo / "ci" / "image.sh").write_text("#!/bin/sh\nset -e\n" + EXAMPLE_COMMANDS["dockerfile-moved-file"].replace(" && ", "\n") + "\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the build's script")
    proc = run(["repair", str(repo / "ci"), "--cmd", "sh image.sh", "--sandbox", "docker", "--json"], cli_env(tmp_path), timeout=60)
    assert proc.returncode == 1
    assert "the build step runs docker (`docker build -q ...` in image.sh)" in contract(proc)["reason"] and "--sandbox local" in proc.stderr
    assert git(repo, "status", "--porcelain") == "" and git(repo, "branch", "--list", "greenline/*") == ""


def test_unreachable_temporal_address_is_reported(tmp_path: Path) -> None:
    repo = example_repo("missing-dependency", tmp_path)
    proc = run(["repair", str(repo), "--cmd", "pytest", "--sandbox", "local"], cli_env(tmp_path, TEMPORAL_ADDRESS="127.0.0.1:1"), timeout=60)
    assert proc.returncode == 1
    assert "127.0.0.1:1" in proc.stderr and "TEMPORAL_ADDRESS" in proc.stderr


def wait_for_phase(repair: subprocess.Popen[str], workflow_id: str, phase: str, env: dict[str, str], deadline_s: float = 600) -> None:
    """Poll ``greenline status`` until ``phase``. The deadline only bounds a hung run (a build's
    pip may wait minutes on a slow index): a repair that ends first fails at once, and either
    failure shows the last status and the repair's own output."""
    deadline = time.monotonic() + deadline_s
    last = ""
    while time.monotonic() < deadline and repair.poll() is None:
        proc = run(["status", workflow_id, "--json"], env, timeout=60)
        last = proc.stdout if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr}"
        if proc.returncode == 0 and json.loads(proc.stdout)["phase"] == phase:
            return
        time.sleep(1)
    if repair.poll() is None:
        repair.kill()
    out, err = repair.communicate(timeout=60)
    raise AssertionError(f"{workflow_id} never reached {phase} (repair exit {repair.returncode}); last status: {last}\nrepair stdout: {out}\nrepair stderr: {err}")


@pytest.mark.integration
def test_reject_from_another_terminal(tmp_path: Path) -> None:
    repo = example_repo("missing-env-var", tmp_path)
    env = cli_env(tmp_path)
    repair = subprocess.Popen(
        [*GREENLINE, "repair", str(repo), "--cmd", EXAMPLE_COMMANDS["missing-env-var"], "--sandbox", "local", "--id", "repair-rejectme", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        wait_for_phase(repair, "repair-rejectme", "awaiting_approval", env)
        rejected = run(["reject", "repair-rejectme", "--reason", "we set it in the CI secrets"], env, timeout=60)
        assert rejected.returncode == 0, rejected.stderr
        out, err = repair.communicate(timeout=120)
    finally:
        if repair.poll() is None:
            repair.kill()
    assert repair.returncode == 3, err
    data = json.loads(out)
    assert data["status"] == "rejected" and "we set it in the CI secrets" in data["reason"]
    assert git(repo, "branch", "--list", "greenline/*") == ""


@pytest.mark.integration
@pytest.mark.parametrize("sandbox", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_ctrl_c_stops_the_build_and_keeps_the_repair_resumable(tmp_path: Path, sandbox: str) -> None:
    repo = example_repo("missing-dependency", tmp_path)
    env = cli_env(tmp_path)
    repair = subprocess.Popen(
        [*GREENLINE, "repair", str(repo), "--cmd", "sleep 120", "--sandbox", sandbox, "--id", "repair-interrupted"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        marker = "GREENLINE_BUILD_ID=repair-interrupted"
        for _ in range(300):
            if (greenline_containers("repair-interrupted") if sandbox == "docker" else processes_with(marker)):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the build never started")
        repair.send_signal(signal.SIGINT)
        _, err = repair.communicate(timeout=60)
    finally:
        if repair.poll() is None:
            repair.kill()
    assert repair.returncode == 1
    assert "greenline resume repair-interrupted" in err and "greenline cancel repair-interrupted" in err
    assert processes_with(marker) == []
    if sandbox == "docker":
        # This repair's containers (label greenline.workflow): the daemon may run other builds.
        assert greenline_containers("repair-interrupted") == []
    cancelled = run(["cancel", "repair-interrupted"], env, timeout=120)
    assert cancelled.returncode == 0, cancelled.stderr


@pytest.mark.integration
async def test_with_temporal_address_the_cli_only_starts_and_follows(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    """Cluster mode: no embedded server, no in-process worker; ``python worker.py`` does the work."""
    repo = example_repo("missing-env-var", tmp_path)
    suffix = tmp_path.name[-8:]
    env = cli_env(
        tmp_path,
        TEMPORAL_ADDRESS=dev_server_env.client.service_client.config.target_host,
        GREENLINE_TASK_QUEUE=f"control-{suffix}",
        GREENLINE_SANDBOX_TASK_QUEUE=f"sandbox-{suffix}",
    )
    args = [*GREENLINE, "repair", str(repo), "--cmd", EXAMPLE_COMMANDS["missing-env-var"], "--sandbox", "local", "--auto-approve", "--json"]
    repair = await asyncio.create_subprocess_exec(*args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    worker = None
    try:
        await asyncio.sleep(3)
        # Nothing serves the queues yet: the CLI says so instead of hanging silently.
        assert repair.returncode is None
        worker = await asyncio.create_subprocess_exec(sys.executable, "worker.py", env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out, err = await asyncio.wait_for(repair.communicate(), timeout=240)
    finally:
        for proc in (repair, worker):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert repair.returncode == 0, err.decode()
    assert json.loads(out)["status"] == "repaired"
    assert b"no worker polls task queue" in err and b"python worker.py" in err
    assert b"Temporal Web UI" not in err  # no embedded server was started
    assert not (tmp_path / "state" / "devserver.json").exists()


@pytest.mark.integration
def test_interactive_prompt_shows_the_diff_and_approves(tmp_path: Path) -> None:
    """On a terminal, the CLI shows the diagnosis and the diff and asks y/n."""
    repo = example_repo("missing-env-var", tmp_path)
    master, slave = pty.openpty()
    repair = subprocess.Popen(
        [*GREENLINE, "repair", str(repo), "--cmd", EXAMPLE_COMMANDS["missing-env-var"], "--sandbox", "local"],
        env=cli_env(tmp_path, TERM="dumb", COLUMNS="200"), stdin=slave, stdout=slave, stderr=slave, close_fds=True,
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 180
        while b"Commit this fix on a new branch?" not in seen:
            assert time.monotonic() < deadline and repair.poll() is None, seen.decode(errors="replace")
            if select.select([master], [], [], 1.0)[0]:
                seen += os.read(master, 65536)
        os.write(master, b"y\n")
        repair.wait(timeout=120)
        with contextlib.suppress(OSError):
            while select.select([master], [], [], 0.5)[0]:
                chunk = os.read(master, 65536)
                if not chunk:
                    break
                seen += chunk
    finally:
        if repair.poll() is None:
            repair.kill()
        os.close(master)
    text = seen.decode(errors="replace")
    assert repair.returncode == 0, text
    assert "set BILLING_REGION in ci.env from .env.example" in text and "+BILLING_REGION=eu-west-1" in text
    assert "repaired" in text
    assert git(repo, "branch", "--list", "greenline/*") != ""
