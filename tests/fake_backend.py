"""A fake OpenAI-compatible backend for fault, load and kill tests (and the benchmarks).

It answers at once, so only the service's own work counts, and it can be switched while
it runs to any fault a real backend shows: an error status, rate limiting, a hang, a
refused connection, a 200 that is not JSON, or a completion with no choices.
"""

from __future__ import annotations

import json
import re
import threading
import time
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_TAGGED = re.compile(r"^\[(P\d+)\]\s*(.+?[.!?])(?:\s|$)", re.M)


class Mode(StrEnum):
    """What the backend does with the next request."""

    OK = "ok"  # a completion that restates the first sentence of the prompt's first paragraph
    ERROR = "500"
    RATE_LIMITED = "429"
    HANG = "hang"  # accepts, then answers nothing until switched back
    REFUSED = "refused"  # not listening: connections are refused
    GARBAGE = "garbage"  # 200 with an HTML page
    EMPTY = "empty"  # 200 with a completion that has no choices


def completion(content: str) -> dict[str, Any]:
    """An OpenAI chat completion carrying one message."""
    return {
        "id": "fake", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def _reply(prompt: str) -> str:
    found = _TAGGED.search(prompt)
    return f"- {found.group(2)} [{found.group(1)}]" if found else "- Nothing to report."


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # why: switching back from REFUSED binds the same port again
    daemon_threads = True
    request_queue_size = 256  # the stdlib's 5 refuses connections under load: a fault this fake must not invent

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that hung up (timed out, or was killed) is not the test's failure


class FakeBackend:
    """A threaded HTTP server on a fixed loopback port; `mode` and `delay_s` can change at any time."""

    def __init__(self, mode: Mode = Mode.OK, delay_s: float = 0.0, poison: str | None = None) -> None:
        self.delay_s = delay_s
        self.poison = poison  # a prompt containing this always gets a 500
        self.requests = 0
        self._mode = mode
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.port = self._listen(0)
        if mode is Mode.REFUSED:
            self._close()

    @property
    def url(self) -> str:
        """The OpenAI base URL clients are given."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        if self._mode is Mode.HANG:
            self._released.set()  # hung requests end (their clients have long timed out)
        self._released = threading.Event()
        if mode is Mode.REFUSED:
            self._close()
        elif self._server is None:
            self._listen(self.port)
        self._mode = mode

    def stop(self) -> None:
        """Release hung requests and close the port."""
        self._released.set()
        self._close()

    def __enter__(self) -> FakeBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _listen(self, port: int) -> int:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name; /models, for readiness
                self._send(200, "application/json", b'{"object": "list", "data": []}')

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                backend.requests += 1
                mode, released = backend.mode, backend._released
                if mode is Mode.REFUSED:  # a kept-alive connection from before the switch: drop it
                    self.close_connection = True
                    return
                if backend.delay_s:
                    time.sleep(backend.delay_s)
                if mode is Mode.HANG:
                    released.wait()
                    self.close_connection = True
                    return
                prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
                if mode is Mode.ERROR or (backend.poison and backend.poison in prompt):
                    self._send(500, "application/json", b'{"error": {"message": "upstream failure"}}')
                elif mode is Mode.RATE_LIMITED:
                    self._send(429, "application/json", b'{"error": {"message": "slow down"}}', {"Retry-After": "1"})
                elif mode is Mode.GARBAGE:
                    self._send(200, "text/html", b"<html>upstream error</html>")
                elif mode is Mode.EMPTY:
                    self._send(200, "application/json", json.dumps({**completion(""), "choices": []}).encode())
                else:
                    self._send(200, "application/json", json.dumps(completion(_reply(prompt))).encode())

            def _send(self, status: int, kind: str, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        server = _Server(("127.0.0.1", port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server
        return server.server_port

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
