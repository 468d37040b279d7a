"""A local HTTP server that speaks Anthropic's Messages API and plays a scripted conversation.

The real ``anthropic`` SDK talks to it over HTTP on 127.0.0.1. Each ``POST /v1/messages`` takes
the next scripted reply (a tool-use answer, a text answer, an error with its headers, a delay)
and is recorded, so tests can read exactly what left the worker. A request beyond the script is
answered 500 and recorded as unexpected: tests assert there were none.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Recorded:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    reply: Reply | None
    delivered: bool = False  # the whole response was written to the client

    @property
    def text(self) -> str:
        """Everything the request carried, as one string (for leak checks)."""
        return json.dumps(self.body)


def tool_use(name: str, tool_input: dict[str, Any], *, input_tokens: int = 1000, output_tokens: int = 200,
             cache_read: int = 0, cache_write: int = 0, model: str = "claude-sonnet-4-6") -> Reply:
    return Reply(body={
        "id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": name, "input": tool_input}],
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                  "cache_read_input_tokens": cache_read, "cache_creation_input_tokens": cache_write},
    })


def text(answer: str, *, input_tokens: int = 1000, output_tokens: int = 100, model: str = "claude-sonnet-4-6") -> Reply:
    return Reply(body={
        "id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": answer}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    })


def error(status: int, kind: str, message: str, *, retry_after: float | None = None) -> Reply:
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
    return Reply(status=status, body={"type": "error", "error": {"type": kind, "message": message}}, headers=headers)


class MessagesAPI:
    """``with MessagesAPI([replies...]) as api:`` serves on ``api.url`` until the block ends."""

    def __init__(self, script: list[Reply]) -> None:
        self.script = list(script)
        self.requests: list[Recorded] = []
        self.unexpected = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> MessagesAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def delivered_usage(self) -> tuple[int, int]:
        """Input (all kinds) and output tokens of the answers the client received whole."""
        tokens_in = tokens_out = 0
        for request in self.requests:
            if request.delivered and request.reply is not None and request.reply.status == 200:
                usage = request.reply.body["usage"]
                tokens_in += usage["input_tokens"] + usage.get("cache_read_input_tokens", 0) + usage.get("cache_creation_input_tokens", 0)
                tokens_out += usage["output_tokens"]
        return tokens_in, tokens_out

    def wait_for_requests(self, count: int, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} requests to the Messages API, got {len(self.requests)}")
            time.sleep(0.05)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
                with api._lock:
                    reply = api.script.pop(0) if api.script and self.path.startswith("/v1/messages") else None
                    record = Recorded(body=body, headers={k.lower(): v for k, v in self.headers.items()}, at=time.monotonic(), reply=reply)
                    api.requests.append(record)
                    if reply is None:
                        api.unexpected += 1
                if reply is None:
                    reply = error(500, "api_error", f"no scripted reply left for {self.path}")
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = json.dumps(reply.body).encode()
                if _closed(self.connection):
                    return  # the client gave up (timeout, killed worker) while we waited
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("request-id", f"req_{uuid.uuid4().hex[:20]}")
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    self.wfile.flush()
                    record.delivered = True
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout, killed worker): nothing was delivered

        return Handler


def _closed(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
