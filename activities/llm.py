"""The LLM engine's calls: Claude through the real ``anthropic`` SDK, one model call per activity.

The SDK never retries (``max_retries=0``): Temporal does, after the server's ``retry-after``.
Before a call the activity checks that the allowance the workflow passed (what is left of the
repair's budget) covers the dearest the call can be; after it, the usage goes back to the
workflow, which charges it in its own state, so a crash never resets the count. Everything sent
is redacted first, and the exchange is kept in the artifact store for the audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anthropic
from opentelemetry import trace
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import git, names
from activities.artifacts import ArtifactStore
from activities.errors import LLM_UNAVAILABLE, llm_not_configured, llm_rejected
from models import LLMDiagnoseRequest, LLMDiagnosis, SecurityReview, SecurityReviewRequest, Usage
from models.llm import Allowance, InvalidAnswer
from specialists import logs
from specialists.llm.answer import FIX_TOOL, FIX_TOOLS, REVIEW_TOOL, REVIEW_TOOLS, AnswerError, Proposal, SecurityVerdict, parse, to_diagnosis
from specialists.llm.context import assemble, estimate_tokens
from specialists.llm.pricing import Price
from specialists.llm.prompts import load
from specialists.redact import redact
from specialists.repo_view import RepoView

SPECIALIST = "llm"
# Below this many output tokens a fix cannot be written: do not start the call.
_MIN_OUTPUT = 512
_tracer = trace.get_tracer("greenline.llm")


@dataclass(frozen=True)
class LLMConfig:
    """The engine's configuration (``greenline.settings``); ``problem`` says why it is unusable."""

    api_key: str | None
    base_url: str | None
    model: str
    max_output_tokens: int
    context_tokens: int
    price: Price | None
    problem: str | None = None


class LLMActivities:
    def __init__(self, config: LLMConfig, store: ArtifactStore) -> None:
        self.config = config
        self.store = store

    def all(self) -> list[Any]:
        return [self.llm_diagnose, self.security_review]

    @activity.defn(name=names.LLM_DIAGNOSE)
    async def llm_diagnose(self, request: LLMDiagnoseRequest) -> LLMDiagnosis:
        price = self._ready()
        d = request.diagnose
        files = await asyncio.to_thread(git.tracked_files, d.repo_path, d.commit)
        view = RepoView(files, d.subdir, d.base_patch)
        log_lines = logs.clean(await asyncio.to_thread(self.store.get, d.build.log))
        room = min(self.config.context_tokens, request.allowance.tokens - _MIN_OUTPUT)
        context = assemble(
            view, cmd=d.cmd, excerpt=d.build.excerpt, tests=d.build.tests, tried=request.tried, known_good_env=d.known_good_env,
            log_lines=log_lines, rules_said=request.rules_said, allow_source_changes=request.allow_source_changes, budget_tokens=room,
        )
        prompt = load("fixer-task").id
        system = [
            {"type": "text", "text": _scrub(context.system)},
            {"type": "text", "text": _scrub(context.overview), "cache_control": {"type": "ephemeral"}},
        ]
        messages: list[dict[str, Any]] = [{"role": "user", "content": _scrub(context.task)}]
        for answer in request.feedback:
            messages += _feedback(answer, FIX_TOOL)
        sent = {"model": self.config.model, "system": system, "messages": messages, "tools": FIX_TOOLS, "tool_choice": {"type": "tool", "name": FIX_TOOL}}
        max_out, why_not = self._affordable(sent, request.allowance, price)
        if why_not:
            return LLMDiagnosis(model=self.config.model, prompt=prompt, not_started=why_not)
        response, usage = await self._call(price, sent, max_out, request.timeout_s, prompt)
        transcript = self.store.put_bytes(json.dumps({"request": sent, "response": response.model_dump(mode="json")}, indent=1).encode())
        result = LLMDiagnosis(usage=usage, model=self.config.model, prompt=prompt, transcript=transcript)
        block = _tool_use(response, FIX_TOOL)
        if block is None:
            return result.model_copy(update={"invalid": InvalidAnswer(answer=_scrub(_text(response)), error=f"answer by calling the {FIX_TOOL} tool")})
        try:
            diagnosis = to_diagnosis(parse(Proposal, block.input), view, specialist=SPECIALIST)
        except AnswerError as err:
            return result.model_copy(update={"invalid": InvalidAnswer(answer=_scrub(json.dumps(block.input)), error=str(err), tool_use_id=block.id)})
        diagnosis = diagnosis.model_copy(
            update={
                "summary": _scrub(diagnosis.summary),
                "evidence": [_scrub(e) for e in diagnosis.evidence],
                "escalate_reason": _scrub(diagnosis.escalate_reason) if diagnosis.escalate_reason else None,
                "tokens_input": usage.total_input,
                "tokens_output": usage.output_tokens,
                "cost_usd": usage.usd,
            }
        )
        return result.model_copy(update={"diagnosis": diagnosis})

    @activity.defn(name=names.SECURITY_REVIEW)
    async def security_review(self, request: SecurityReviewRequest) -> SecurityReview:
        price = self._ready()
        prompt = load("security-task").id
        task = load("security-task").render(summary=request.summary, diff=request.patch.diff)
        sent = {
            "model": self.config.model,
            "system": [{"type": "text", "text": load("security-reviewer").text, "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": _scrub(task)}],
            "tools": REVIEW_TOOLS,
            "tool_choice": {"type": "tool", "name": REVIEW_TOOL},
        }
        max_out, why_not = self._affordable(sent, request.allowance, price, cap=1024)
        if why_not:
            return SecurityReview(model=self.config.model, not_started=why_not)
        response, usage = await self._call(price, sent, max_out, request.timeout_s, prompt)
        transcript = self.store.put_bytes(json.dumps({"request": sent, "response": response.model_dump(mode="json")}, indent=1).encode())
        block = _tool_use(response, REVIEW_TOOL)
        try:
            if block is None:
                raise AnswerError(f"no {REVIEW_TOOL} call")
            verdict: SecurityVerdict = parse(SecurityVerdict, block.input)
        except AnswerError as err:
            # An unreadable verdict is no acceptance: the patch waits for a human instead.
            return SecurityReview(usage=usage, model=self.config.model, accepted=False, concerns=[f"the security reviewer's answer was unusable ({err})"], transcript=transcript)
        return SecurityReview(
            usage=usage, model=self.config.model, accepted=verdict.accepted,
            concerns=[_scrub(c) for c in verdict.concerns], transcript=transcript,
        )

    # ------------------------------------------------------------------ the call
    def _ready(self) -> Price:
        if self.config.problem or self.config.price is None:
            raise llm_not_configured(f"the LLM engine is not configured: {self.config.problem}")
        return self.config.price

    def _affordable(self, sent: dict[str, Any], allowance: Allowance, price: Price, cap: int | None = None) -> tuple[int, str | None]:
        """The output tokens a call may use, or why the remaining budget cannot cover one."""
        tokens_in = estimate_tokens(json.dumps(sent))
        max_out = min(cap or self.config.max_output_tokens, allowance.tokens - tokens_in)
        if max_out < _MIN_OUTPUT:
            return 0, f"the remaining {allowance.tokens} tokens cannot cover a call of about {tokens_in} input tokens and {_MIN_OUTPUT} output tokens"
        dearest = price.most(tokens_in, max_out)
        if dearest > allowance.usd:
            return 0, f"the remaining ${allowance.usd:.4f} cannot cover a call that may cost ${dearest:.4f}"
        return max_out, None

    async def _call(self, price: Price, sent: dict[str, Any], max_out: int, timeout_s: float, prompt: str) -> tuple[anthropic.types.Message, Usage]:
        # A client per call: calls are few, and nothing outlives the activity (connections included).
        async with anthropic.AsyncAnthropic(api_key=self.config.api_key, base_url=self.config.base_url, max_retries=0) as client:
            return await self._send(client, price, sent, max_out, timeout_s, prompt)

    async def _send(
        self, client: anthropic.AsyncAnthropic, price: Price, sent: dict[str, Any], max_out: int, timeout_s: float, prompt: str
    ) -> tuple[anthropic.types.Message, Usage]:
        with _tracer.start_as_current_span(f"chat {self.config.model}") as span:
            span.set_attributes(
                {"gen_ai.system": "anthropic", "gen_ai.operation.name": "chat", "gen_ai.request.model": self.config.model,
                 "gen_ai.request.max_tokens": max_out, "greenline.prompt": prompt}
            )
            try:
                async with _heartbeating():
                    response = await client.messages.create(**sent, max_tokens=max_out, timeout=timeout_s)
            except anthropic.APIStatusError as err:
                span.set_attribute("error.type", str(err.status_code))
                raise _classify(err, self.config) from None
            except anthropic.APITimeoutError:
                span.set_attribute("error.type", "timeout")
                raise ApplicationError(f"the model server did not answer within {timeout_s:.0f}s", type=LLM_UNAVAILABLE) from None
            except anthropic.APIConnectionError as err:
                span.set_attribute("error.type", "connection")
                raise ApplicationError(f"cannot reach the model server at {self.config.base_url or 'api.anthropic.com'}: {err}", type=LLM_UNAVAILABLE) from None
            u = response.usage
            usage = Usage(
                input_tokens=u.input_tokens, output_tokens=u.output_tokens,
                cache_read_tokens=u.cache_read_input_tokens or 0, cache_write_tokens=u.cache_creation_input_tokens or 0,
            )
            usage.usd = price.cost(usage)
            span.set_attributes(
                {"gen_ai.response.id": response.id, "gen_ai.response.model": response.model,
                 "gen_ai.usage.input_tokens": usage.total_input, "gen_ai.usage.output_tokens": usage.output_tokens,
                 "greenline.usage.cache_read_tokens": usage.cache_read_tokens, "greenline.usage.usd": usage.usd}
            )
            return response, usage


@contextlib.asynccontextmanager
async def _heartbeating(every_s: float = 2.0) -> AsyncIterator[None]:
    """Heartbeat while a call is out, so the workflow learns of a lost worker within seconds."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every_s)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


def _classify(err: anthropic.APIStatusError, config: LLMConfig) -> ApplicationError:
    status = err.status_code
    message = _scrub(_error_message(err))
    if status in (408, 409, 429, 529) or status >= 500:
        return ApplicationError(f"the model server answered {status}: {message}", type=LLM_UNAVAILABLE, next_retry_delay=_retry_after(err))
    hint = {
        401: "check ANTHROPIC_API_KEY",
        403: "the key may not use this model or endpoint; check the key's workspace and permissions",
        404: f"check GREENLINE_LLM_MODEL ({config.model}) and GREENLINE_LLM_BASE_URL ({config.base_url or 'default'})",
        413: "the request is too large: lower GREENLINE_LLM_CONTEXT_TOKENS",
    }.get(status, "the request was refused; it will not be retried")
    return llm_rejected(f"the model server refused the request ({status}: {message}): {hint}")


def _error_message(err: anthropic.APIStatusError) -> str:
    body = err.body
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
    return str(err.message)


def _retry_after(err: anthropic.APIStatusError) -> timedelta | None:
    headers = err.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return timedelta(seconds=min(max(float(value) * scale, 0.0), 600.0))
            except ValueError:
                continue  # an HTTP date: let the retry policy's backoff decide
    return None


def _feedback(answer: InvalidAnswer, tool_name: str) -> list[dict[str, Any]]:
    """The invalid answer and the correction it needs, as the next turns of the conversation."""
    if answer.tool_use_id is None:
        return [
            {"role": "assistant", "content": answer.answer or "(no answer)"},
            {"role": "user", "content": f"That answer cannot be used: {answer.error}."},
        ]
    try:
        tool_input = json.loads(answer.answer)
    except json.JSONDecodeError:
        tool_input = {}
    return [
        {"role": "assistant", "content": [{"type": "tool_use", "id": answer.tool_use_id, "name": tool_name, "input": tool_input}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": answer.tool_use_id, "is_error": True, "content": f"Not applied: {answer.error}. Call {tool_name} again with a corrected answer."}]},
    ]


def _tool_use(response: anthropic.types.Message, name: str) -> Any:
    return next((b for b in response.content if b.type == "tool_use" and b.name == name), None)


def _text(response: anthropic.types.Message) -> str:
    return "\n".join(b.text for b in response.content if b.type == "text")


def _scrub(text: str) -> str:
    return redact(text, env=os.environ)
