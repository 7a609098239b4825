"""A loopback OpenAI-compatible chat server with programmable faults.

Tests point a model's ``api_base`` at :attr:`StubServer.url` and script what
the next requests get: rate limits (with or without ``Retry-After``), server
errors, a reply slower than the client's timeout, a malformed body or a plain
400.  Every other request gets a proper chat completion with a deterministic
``usage`` block.  The server counts the requests it received, so a test can
assert how many calls were made.

Test modules import the :func:`openai_stub` fixture
(``from openai_stub import openai_stub``; pytest puts ``tests/`` on the path),
or run ``python tests/openai_stub.py`` to serve on a port of your own, as the
throughput benchmark does.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Fault:
    """What one scripted request gets instead of a normal completion.

    Args:
        status: HTTP status to answer with (429, 500, 503, 400, ...).
        retry_after: value of a ``Retry-After`` header, when one is sent.
        delay_s: seconds to wait before answering normally.
        malformed: answer 200 with a body that is not JSON.
        message: the error message in the body of a ``status`` answer.
    """

    status: int | None = None
    retry_after: str | None = None
    delay_s: float = 0.0
    malformed: bool = False
    message: str | None = None


@dataclass
class Reply:
    """The usage every normal completion reports."""

    prompt_tokens: int = 1000
    completion_tokens: int = 200
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass
class _State:
    faults: deque[Fault] = field(default_factory=deque)
    reply: Reply = field(default_factory=Reply)
    requests: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    keep_bodies: bool = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    state: _State

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that timed out and hung up is a scripted outcome, not a bug
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return  # quiet: tests and benchmarks read counts, not access logs

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != CHAT_PATH:
            self._send(404, b'{"error": {"message": "not found"}}')
            return
        body = json.loads(raw or b"{}")
        fault = self._record(body)
        if fault is not None and self._apply(fault):
            return
        self._send(200, json.dumps(self._completion(body)).encode())

    def _record(self, body: dict[str, Any]) -> Fault | None:
        state = self.server.state
        with state.lock:
            state.requests += 1
            if state.keep_bodies:
                state.bodies.append(body)
                state.headers.append(dict(self.headers))
            return state.faults.popleft() if state.faults else None

    def _apply(self, fault: Fault) -> bool:
        """Act out ``fault``; True when the response has been sent."""
        if fault.delay_s:
            time.sleep(fault.delay_s)
        if fault.malformed:
            self._send(200, b'{"id": "chatcmpl-stub", "choices": [ {oops')
            return True
        if fault.status is None:
            return False
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = fault.retry_after
        text = fault.message or f"stub fault {fault.status}"
        message = {"error": {"message": text,
                             "type": "stub_error", "code": str(fault.status)}}
        self._send(fault.status, json.dumps(message).encode(), headers)
        return True

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = self.server.state.reply
        messages = body.get("messages") or [{"content": ""}]
        usage: dict[str, Any] = {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        }
        if reply.cached_tokens is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": reply.cached_tokens}
        if reply.reasoning_tokens is not None:
            usage["completion_tokens_details"] = {
                "reasoning_tokens": reply.reasoning_tokens}
        return {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", "stub"),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant",
                            "content": f"echo: {messages[-1].get('content', '')}"},
                "finish_reason": "stop",
            }],
            "usage": usage,
        }

    def _send(self, status: int, payload: bytes,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class StubServer:
    """The chat server on 127.0.0.1 and an ephemeral port, in a thread."""

    def __init__(self, port: int = 0, keep_bodies: bool = True) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = _State(keep_bodies=keep_bodies)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="openai-stub", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The ``api_base`` to give litellm."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> int:
        """How many chat requests arrived, faulted ones included."""
        return self._server.state.requests

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the requests received, in order."""
        return self._server.state.bodies

    @property
    def headers(self) -> list[dict[str, str]]:
        """The headers of the requests received, in order."""
        return self._server.state.headers

    @property
    def reply(self) -> Reply:
        """The usage normal completions report; change its fields freely."""
        return self._server.state.reply

    def script(self, *faults: Fault) -> None:
        """Queue faults for the next requests, one request each."""
        with self._server.state.lock:
            self._server.state.faults.extend(faults)

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def refused_url() -> str:
    """An ``api_base`` on 127.0.0.1 where nothing listens: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def openai_stub() -> Iterator[StubServer]:
    """A started :class:`StubServer`, stopped after the test."""
    server = StubServer().start()
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    """Serve until interrupted, printing the ``api_base`` on the first line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = StubServer(args.port, keep_bodies=False)
    print(server.url, flush=True)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()


if __name__ == "__main__":
    main()
