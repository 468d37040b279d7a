"""The LLM engine end to end: real repairs on the dev server, real workers, the real ``anthropic``
SDK talking HTTP to a local server that speaks the Messages API and plays a scripted conversation."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from greenline.settings import Settings
from models import Budget, Engine, RepairRequest, RepairResult, SandboxKind, Status
from tests.git_repos import commit_files, git
from tests.integration.helpers import settings_for
from tests.integration.test_worker_crash import start_worker, worker_environment
from tests.messages_api import MessagesAPI, error, text, tool_use
from worker import build_workers
from workflows import RepairWorkflow

pytestmark = pytest.mark.integration

BUILD = "python -m unittest discover -s tests -t . -q"
# Code written for an older Python: ``collections.Mapping`` left in 3.10. No playbook knows it.
CONFIG = '''from collections import Mapping


def merged(defaults, overrides):
    """The defaults with the overrides laid over them."""
    if not isinstance(overrides, Mapping):
        raise TypeError("overrides must be a mapping")
    return {**defaults, **overrides}
'''
TEST = '''import unittest

from inventory.config import merged


class MergedTest(unittest.TestCase):
    def test_overrides_win(self):
        self.assertEqual(merged({"a": 1, "b": 2}, {"a": 3}), {"a": 3, "b": 2})
'''
SAFE = tool_use("security_verdict", {"accepted": True, "concerns": []}, input_tokens=600, output_tokens=30)
FIX = {"path": "inventory/config.py", "old": "from collections import Mapping", "new": "from collections.abc import Mapping"}


def proposal(edits: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    return {
        "hypothesis": "collections.Mapping was removed in Python 3.10; the ABC lives in collections.abc",
        "category": "environment",
        "rationale": "import the ABC from its current module; behaviour is unchanged",
        "confidence": 0.9,
        "edits": edits,
        **extra,
    }


def long_tail_repo(tmp_path: Path, *, allow_source_changes: bool = True) -> Path:
    repo = tmp_path / "inventory-service"
    files = {"inventory/__init__.py": "", "inventory/config.py": CONFIG, "tests/__init__.py": "", "tests/test_config.py": TEST}
    if allow_source_changes:
        files[".greenline.toml"] = "allow_source_changes = true\n"
    commit_files(repo, files)
    return repo


def llm_settings(tmp_path: Path, api: MessagesAPI) -> Settings:
    return settings_for(tmp_path).model_copy(update={"anthropic_api_key": SecretStr("sk-ant-test-key"), "llm_base_url": api.url})


async def repair(env: WorkflowEnvironment, settings: Settings, repo: Path, **request: Any) -> RepairResult:
    fields: dict[str, Any] = {"repo_path": str(repo), "cmd": BUILD, "sandbox": SandboxKind.LOCAL, "auto_approve": True, "engine": Engine.AUTO}
    fields.update(request)
    req = RepairRequest(**fields, sandbox_task_queue=settings.sandbox_task_queue)
    async with AsyncExitStack() as stack:
        for worker in build_workers(env.client, settings, max_cached_workflows=0):
            await stack.enter_async_context(worker)
        handle = await env.client.start_workflow(RepairWorkflow.run, req, id=f"llm-{uuid.uuid4().hex[:8]}", task_queue=settings.task_queue)
        return await handle.result()


def spent_tokens(result: RepairResult) -> tuple[int, int]:
    return result.spent.tokens_input, result.spent.tokens_output


async def test_a_long_tail_failure_only_the_model_fixes_is_repaired(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path)
    with MessagesAPI([tool_use("propose_fix", proposal([FIX]), input_tokens=1800, output_tokens=240, cache_write=900), SAFE]) as api:
        result = await repair(dev_server_env, llm_settings(tmp_path, api), repo)
    assert result.status == Status.REPAIRED, result.reason
    assert result.patch is not None and "+from collections.abc import Mapping" in result.patch.diff
    assert [a.diagnosis.engine for a in result.attempts] == [Engine.LLM]
    assert git(repo, "show", f"{result.branch}:inventory/config.py").startswith("from collections.abc import Mapping")
    # Charged exactly what the server reported, cache writes included, priced from the table.
    assert spent_tokens(result) == api.delivered_usage() == (2700 + 600, 240 + 30)
    assert result.spent.usd == pytest.approx((1800 * 3 + 900 * 3.75 + 240 * 15 + 600 * 3 + 30 * 15) / 1e6)
    sent, review = api.requests
    assert review.body["tool_choice"]["name"] == "security_verdict"
    assert api.unexpected == 0
    assert "sk-ant-test-key" in (sent.headers.get("x-api-key", ""), sent.headers.get("authorization", "").removeprefix("Bearer "))
    assert sent.body["tool_choice"] == {"type": "tool", "name": "propose_fix"}
    assert sent.body["system"][-1]["cache_control"] == {"type": "ephemeral"}  # the stable prefix is cached
    task = sent.body["messages"][0]["content"]
    assert "cannot import name 'Mapping' from 'collections'" in task
    assert '<file path="inventory/config.py">' in task and "allows changes to source files" in task


async def test_without_policy_the_source_edit_is_refused_and_the_model_is_told(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path, allow_source_changes=False)
    script = [
        tool_use("propose_fix", proposal([FIX])),
        tool_use("propose_fix", proposal([], escalate="the fix is a source change and this repository's policy forbids those")),
    ]
    with MessagesAPI(script) as api:
        result = await repair(dev_server_env, llm_settings(tmp_path, api), repo)
    assert result.status == Status.ESCALATED
    assert "policy forbids" in result.reason
    assert result.attempts[0].review is not None and not result.attempts[0].review.accepted
    second = api.requests[1].body["messages"][0]["content"]
    assert "refused by the reviewer" in second and "from collections.abc import Mapping" in second
    assert "do not edit source files" in second
    assert spent_tokens(result) == api.delivered_usage()


async def test_an_invalid_answer_goes_back_with_the_error_and_both_calls_are_charged(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path)
    wrong = {**FIX, "old": "from collections import Mappings"}
    script = [
        text("I think you should upgrade Python."),
        tool_use("propose_fix", proposal([wrong])),
        tool_use("propose_fix", {"hypothesis": "missing fields"}),
        tool_use("propose_fix", proposal([FIX])),
    ]
    with MessagesAPI(script) as api:
        result = await repair(dev_server_env, llm_settings(tmp_path, api), repo)
    assert result.status == Status.ESCALATED  # three unusable answers: the budget of corrections is spent
    assert "failed validation 3 times" in result.reason and "does not match its schema" in result.reason
    assert len(api.requests) == 3 and spent_tokens(result) == api.delivered_usage()
    turns = api.requests[2].body["messages"]
    assert turns[1] == {"role": "assistant", "content": "I think you should upgrade Python."}
    assert "answer by calling the propose_fix tool" in turns[2]["content"]
    fed_back = turns[4]["content"][0]
    assert fed_back["type"] == "tool_result" and fed_back["is_error"] is True
    assert "does not occur in inventory/config.py" in fed_back["content"]


async def test_a_corrected_answer_repairs(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path)
    script = [tool_use("propose_fix", proposal([{**FIX, "old": "import Mapping "}])), tool_use("propose_fix", proposal([FIX])), SAFE]
    with MessagesAPI(script) as api:
        result = await repair(dev_server_env, llm_settings(tmp_path, api), repo)
    assert result.status == Status.REPAIRED, result.reason
    assert len(api.requests) == 3 and spent_tokens(result) == api.delivered_usage() == (2600, 430)


async def test_rate_limits_and_overload_are_retried_after_the_servers_retry_after(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path)
    script = [
        error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", retry_after=3),
        error(529, "overloaded_error", "Overloaded", retry_after=1),
        tool_use("propose_fix", proposal([FIX])),
        SAFE,
    ]
    with MessagesAPI(script) as api:
        result = await repair(dev_server_env, llm_settings(tmp_path, api), repo)
    assert result.status == Status.REPAIRED, result.reason
    first, second, third, _ = (r.at for r in api.requests)
    assert second - first >= 2.9 and third - second >= 0.9  # retry-after honoured, not the 2 s backoff
    assert spent_tokens(result) == api.delivered_usage() == (1600, 230)  # errors cost nothing


async def test_a_hung_call_hits_its_timeout_and_is_retried(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path)
    slow = tool_use("propose_fix", proposal([FIX]), input_tokens=5000)
    slow.delay_s = 8
    with MessagesAPI([slow, tool_use("propose_fix", proposal([FIX])), SAFE]) as api:
        started = time.monotonic()
        result = await repair(dev_server_env, llm_settings(tmp_path, api), repo, llm_timeout_s=2)
    assert result.status == Status.REPAIRED, result.reason
    assert len(api.requests) == 3 and not api.requests[0].delivered
    assert spent_tokens(result) == api.delivered_usage() == (1600, 230)  # the answer that never arrived is not charged
    assert time.monotonic() - started < 60


async def test_a_refused_key_escalates_at_once_with_what_to_check(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path)
    with MessagesAPI([error(401, "authentication_error", "invalid x-api-key")]) as api:
        result = await repair(dev_server_env, llm_settings(tmp_path, api), repo)
    assert result.status == Status.ESCALATED
    assert "401" in result.reason and "check ANTHROPIC_API_KEY" in result.reason
    assert len(api.requests) == 1  # not retried


async def test_the_budget_runs_out_mid_loop_and_the_repair_escalates(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path)
    bad = {**FIX, "old": "no such text"}
    script = [tool_use("propose_fix", proposal([bad]), input_tokens=9000, output_tokens=500), tool_use("propose_fix", proposal([FIX]))]
    with MessagesAPI(script) as api:
        result = await repair(dev_server_env, llm_settings(tmp_path, api), repo, budget=Budget(max_tokens=12_000))
    assert result.status == Status.ESCALATED
    assert "budget" in result.reason and "cannot cover a call" in result.reason
    assert len(api.requests) == 1 and spent_tokens(result) == (9000, 500)


async def test_auto_without_a_key_runs_on_the_playbooks_alone(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path)
    with MessagesAPI([]) as api:
        result = await repair(dev_server_env, settings_for(tmp_path).model_copy(update={"llm_base_url": api.url}), repo)
    assert result.status == Status.ESCALATED
    assert [a.diagnosis.engine for a in result.attempts] == [Engine.RULES]
    assert api.requests == [] and spent_tokens(result) == (0, 0)


async def test_engine_llm_without_a_key_on_the_worker_escalates_saying_how_to_configure(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path)
    result = await repair(dev_server_env, settings_for(tmp_path), repo, engine=Engine.LLM)
    assert result.status == Status.ESCALATED
    assert "ANTHROPIC_API_KEY" in result.reason


async def test_the_security_reviewer_can_refuse_what_the_rules_accepted(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> None:
    repo = long_tail_repo(tmp_path)
    script = [
        tool_use("propose_fix", proposal([FIX])),
        tool_use("security_verdict", {"accepted": False, "concerns": ["inventory/config.py:1 imports from a module the build does not pin"]}),
        tool_use("propose_fix", proposal([], escalate="no other fix")),
    ]
    with MessagesAPI(script) as api:
        result = await repair(dev_server_env, llm_settings(tmp_path, api), repo)
    assert result.status == Status.ESCALATED
    review = result.attempts[0].review
    assert review is not None and not review.accepted and review.findings[0].startswith("security reviewer: inventory/config.py:1")
    assert api.requests[1].body["tool_choice"]["name"] == "security_verdict"
    assert "+from collections.abc import Mapping" in api.requests[1].body["messages"][0]["content"]
    assert spent_tokens(result) == api.delivered_usage()


async def test_a_worker_killed_during_a_model_call_loses_no_budget_and_pays_no_call_twice(
    dev_server_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    repo = long_tail_repo(tmp_path)
    hung = tool_use("propose_fix", proposal([FIX]), input_tokens=7000, output_tokens=700)
    hung.delay_s = 45  # still "thinking" when its worker dies
    script = [tool_use("propose_fix", proposal([{**FIX, "old": "not in the file"}]), input_tokens=3000, output_tokens=300), hung,
              tool_use("propose_fix", proposal([FIX])), SAFE]
    settings = settings_for(tmp_path)
    with MessagesAPI(script) as api:
        worker_env = worker_environment(dev_server_env, settings, ANTHROPIC_API_KEY="sk-ant-test-key", GREENLINE_LLM_BASE_URL=api.url)
        log = tmp_path / "workers.log"
        first = start_worker(dev_server_env, worker_env, log)
        second: subprocess.Popen[bytes] | None = None
        try:
            handle = await dev_server_env.client.start_workflow(
                RepairWorkflow.run,
                RepairRequest(repo_path=str(repo), cmd=BUILD, sandbox=SandboxKind.LOCAL, auto_approve=True, sandbox_task_queue=settings.sandbox_task_queue),
                id=f"llm-crash-{uuid.uuid4().hex[:8]}", task_queue=settings.task_queue,
            )
            await asyncio.to_thread(api.wait_for_requests, 2, 120)
            before = await handle.query(RepairWorkflow.status)
            first.send_signal(signal.SIGKILL)
            first.wait()
            second = start_worker(dev_server_env, worker_env, log)
            result = await asyncio.wait_for(handle.result(), timeout=180)
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()
    assert result.status == Status.REPAIRED, f"{result.reason}\n{log.read_text()}"
    # The first call was charged before the crash, and the count carried on from there.
    assert (before.spent.tokens_input, before.spent.tokens_output) == (3000, 300)
    # The lost call was never delivered and is not charged; the retried one is, once.
    assert not api.requests[1].delivered and len(api.requests) == 4
    assert spent_tokens(result) == api.delivered_usage() == (3000 + 1000 + 600, 300 + 200 + 30)
    history = await handle.fetch_history()
    attempts = [e.activity_task_started_event_attributes.attempt for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert max(attempts) >= 2


async def test_planted_secrets_reach_no_request_trace_audit_record_or_report(
    dev_server_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_secret = "q7Vd2LmX9pTz4RkW8sNc3JhB6yGf1UeA"  # the value of a secret-named variable of the worker
    planted = {
        worker_secret,
        "ghp_" + "R8kz2Q6mW1vX9pL4tY7nB3cJ5dF0hG2sA8eK",  # a GitHub token the build prints
        "Zx81Sd9PqLw3Nv6Tb2Kr7Hm4Jc0Fy5GuA1eQo3Wi",  # an AWS secret key in a committed env file
        "Hunter2Secret",  # a password in an index URL
    }
    monkeypatch.setenv("DEPLOY_TOKEN", worker_secret)
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    repo = long_tail_repo(tmp_path)
    (repo / "ci.env").write_text(
        "PIP_INDEX_URL=https://deploy:Hunter2Secret@artifacts.internal.example/simple\n"
        "AWS_SECRET_ACCESS_KEY=Zx81Sd9PqLw3Nv6Tb2Kr7Hm4Jc0Fy5GuA1eQo3Wi\n"
        f"DEPLOY_TOKEN={worker_secret}\n"
    )
    git(repo, "add", "ci.env")
    git(repo, "commit", "-q", "-m", "ci settings")
    build = "cat ci.env && echo 'fetching with ghp_R8kz2Q6mW1vX9pL4tY7nB3cJ5dF0hG2sA8eK' && " + BUILD
    with MessagesAPI([tool_use("propose_fix", proposal([FIX])), SAFE]) as api:
        result = await repair(dev_server_env, llm_settings(tmp_path, api), repo, cmd=build)
    assert result.status == Status.REPAIRED, result.reason
    assert len(api.requests) == 2
    task = api.requests[0].body["messages"][0]["content"]
    assert '<file path="ci.env">' in task and "[REDACTED:" in task  # the file was shown, its secrets were not

    spans = exporter.get_finished_spans()
    assert any(s.name.startswith("chat ") and s.attributes and s.attributes.get("gen_ai.usage.input_tokens") == 1000 for s in spans)
    places = {
        "requests to the model": [r.text for r in api.requests],
        "audit trail": [e.message for e in result.audit],
        "result": [result.model_dump_json()],
        "report": [json.dumps(result.to_json_contract())],
        "commit message": [git(repo, "log", "-1", "--format=%B", str(result.branch))],
        "traces": [json.dumps({"name": s.name, "attributes": dict(s.attributes or {}), "events": [dict(e.attributes or {}) for e in s.events]}, default=str) for s in spans],
    }
    leaks = [(place, secret[:6]) for place, texts in places.items() for secret in planted for t in texts if secret in t]
    assert leaks == []
