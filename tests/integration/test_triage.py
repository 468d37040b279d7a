"""Triage end to end on the real dev server: real pytest suites with genuinely flaky,
order-dependent and deterministic tests, and a build whose package download times out once,
each routed to its category with the evidence it rests on."""

from __future__ import annotations

import hashlib
import http.server
import io
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from base64 import urlsafe_b64encode
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from models import Category, Flakiness, RepairRequest, SandboxKind, Status
from tests.git_repos import commit_files, git
from tests.integration.helpers import greenline_containers, repair_in_process, settings_for

# The build's fresh venv has no pytest: these builds call the interpreter of this test run (the
# docker variant installs pytest in its container instead).
PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"

APP = {
    "app/__init__.py": "",
    "app/config.py": 'settings = {"mode": "production", "retries": 3}\n\n\ndef mode() -> str:\n    return settings["mode"]\n',
    "app/calc.py": "def total(prices):\n    return sum(prices)\n\n\ndef average(prices):\n    return total(prices) / (len(prices) + 1)\n",
}
# Five ordinary tests, then a test that changes shared module state and never restores it,
# then more tests, then the test that trusts the default: it passes alone, fails after the polluter.
ORDER_DEPENDENT = {
    **APP,
    "tests/test_a_calc.py": "from app.calc import total\n" + "".join(f"\n\ndef test_total_{n}():\n    assert total([{n}, 1]) == {n + 1}\n" for n in range(5)),
    "tests/test_b_debug.py": 'from app import config\n\n\ndef test_debug_mode_is_switchable():\n    config.settings["mode"] = "debug"\n    assert config.mode() == "debug"\n',
    "tests/test_c_retries.py": "from app import config\n\n\ndef test_retries():\n    assert config.settings[\"retries\"] == 3\n\n\ndef test_keys():\n    assert set(config.settings) == {\"mode\", \"retries\"}\n",
    "tests/test_d_default.py": 'from app import config\n\n\ndef test_default_mode_is_production():\n    assert config.mode() == "production"\n',
}
# ``average`` divides by one too many: every run fails.
LOGIC_BUG = {
    **APP,
    "tests/test_calc.py": "from app.calc import average, total\n\n\ndef test_total():\n    assert total([1, 2, 3]) == 6\n\n\ndef test_average():\n    assert average([2, 4]) == 3\n",
}


def flaky_suite(marker: str) -> dict[str, str]:
    """A test that trusts a warm cache left in the temp dir by an earlier run: the first run on a
    machine fails, later ones pass (the leaked-temp-file kind of flakiness)."""
    test = f'''\
import os
import tempfile

from app.calc import total

CACHE = os.path.join(tempfile.gettempdir(), "{marker}.cache")


def test_total():
    assert total([1, 2]) == 3


def test_cache_is_warm():
    warm = os.path.exists(CACHE)
    open(CACHE, "w").close()
    assert warm, "price cache was cold"
'''
    return {**APP, "tests/test_prices.py": test}


def make_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    commit_files(repo, files, "suite")
    return repo


async def repair(env: WorkflowEnvironment, tmp_path: Path, repo: Path, cmd: str, sandbox: SandboxKind = SandboxKind.LOCAL, **extra: object):
    request = RepairRequest(repo_path=str(repo), cmd=cmd, sandbox=sandbox, auto_approve=True, **extra)  # type: ignore[arg-type]
    return await repair_in_process(env, settings_for(tmp_path), request)


@pytest.mark.integration
async def test_a_flaky_test_is_named_and_never_patched(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    marker = f"greenline-it-{uuid.uuid4().hex}"
    repo = make_repo(tmp_path, flaky_suite(marker))
    try:
        result = await repair(dev_server_env, tmp_path, repo, PYTEST)
    finally:
        Path(f"/tmp/{marker}.cache").unlink(missing_ok=True)
    assert result.status == Status.FLAKY and result.classification == Category.FLAKY, result.reason
    assert result.flaky_tests == ["tests/test_prices.py::test_cache_is_warm"]
    assert result.patch is None and result.branch is None and result.attempts == []
    verdict = result.test_verdicts[0]
    assert verdict.kind == Flakiness.FLAKY and verdict.confidence == 1.0
    assert len(verdict.reruns) <= 2 and result.spent.reruns == len(verdict.reruns)
    contract = result.to_json_contract()
    assert contract["status"] == "flaky" and contract["confidence"] == 1.0
    assert any("passed" in line for line in contract["evidence"])


@pytest.mark.integration
async def test_an_order_dependent_test_is_traced_to_its_polluter(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ORDER_DEPENDENT)
    result = await repair(dev_server_env, tmp_path, repo, PYTEST)
    assert result.status == Status.FLAKY and result.classification == Category.ORDER_DEPENDENT, result.reason
    victim = "tests/test_d_default.py::test_default_mode_is_production"
    polluter = "tests/test_b_debug.py::test_debug_mode_is_switchable"
    assert result.flaky_tests == [victim]
    assert result.to_json_contract()["polluters"] == {victim: [polluter]}
    assert polluter in result.reason
    # alone, in order, a bisection of the 8 tests before it (3 halvings + 1 confirmation), 2 checks
    assert result.spent.reruns <= 8
    assert result.patch is None and git(repo, "branch", "--list", "greenline/*") == ""


@pytest.mark.integration
async def test_a_deterministic_assertion_escalates_as_a_logic_error(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, LOGIC_BUG)
    result = await repair(dev_server_env, tmp_path, repo, PYTEST)
    assert result.status == Status.ESCALATED and result.classification == Category.LOGIC
    assert result.spent.reruns == 3  # failed alone three times: deterministic
    assert result.triage is not None and result.triage.confidence >= 0.85
    assert "tests/test_calc.py::test_average" in result.reason and "average()" in result.reason
    assert result.patch is None


@pytest.mark.integration
@pytest.mark.docker
async def test_reruns_select_tests_inside_the_docker_sandbox_too(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ORDER_DEPENDENT)
    result = await repair(dev_server_env, tmp_path, repo, "pip install -q pytest && python -m pytest -q", sandbox=SandboxKind.DOCKER)
    assert result.classification == Category.ORDER_DEPENDENT, result.reason
    assert result.test_verdicts[0].polluters == ["tests/test_b_debug.py::test_debug_mode_is_switchable"]
    assert greenline_containers() == []


# ---------------------------------------------------------------- a download that times out once
def _wheel(name: str, module: str, version: str) -> bytes:
    files = {f"{module}/__init__.py": b"VALUE = 42\n"}
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: greenline-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(
        f"{path},sha256={urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n" for path, data in files.items()
    )
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


@pytest.fixture
def stalling_index() -> Iterator[tuple[str, list[str]]]:
    """A package index on 127.0.0.1 whose first wheel download stalls past pip's timeout."""
    wheel_name = "pricing_rules-1.0-py3-none-any.whl"
    wheel = _wheel("pricing-rules", "pricing_rules", "1.0")
    requests: list[str] = []

    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            requests.append(self.path)
            if self.path.rstrip("/") == "/simple/pricing-rules":
                body = f'<html><body><a href="/files/{wheel_name}">{wheel_name}</a></body></html>'.encode()
                content_type = "text/html"
            elif self.path == f"/files/{wheel_name}":
                if sum(p == self.path for p in requests) == 1:
                    time.sleep(4)  # pip gives up after --timeout 1
                body, content_type = wheel, "application/octet-stream"
            else:
                self.send_error(404)
                return
            try:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
async def test_a_download_that_times_out_once_is_retried_not_patched(
    dev_server_env: WorkflowEnvironment, tmp_path: Path, stalling_index: tuple[str, list[str]]
) -> None:
    index, requests = stalling_index
    repo = make_repo(tmp_path, {"requirements.txt": "pricing-rules==1.0\n", "check.py": "import pricing_rules\nassert pricing_rules.VALUE == 42\n"})
    # Only this index (no host pip config), one try, a short timeout: the first download fails.
    cmd = f"PIP_CONFIG_FILE=/dev/null pip install -q --index-url {index} --timeout 1 --retries 0 -r requirements.txt && python check.py"
    result = await repair(dev_server_env, tmp_path, repo, cmd, retry_delay_s=1.0)
    assert result.status == Status.GREEN and result.classification == Category.INFRA_TRANSIENT, result.reason
    assert "passed on retry 1" in result.reason
    assert any("timed out" in line.lower() for line in result.to_json_contract()["evidence"])
    assert result.spent.builds == 2 and result.patch is None
    assert requests.count("/files/pricing_rules-1.0-py3-none-any.whl") == 2
    assert subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout == ""
