"""Real servers on 127.0.0.1 for the notification tests: SMTP, and a chat webhook.

Both are started by the tests, on free ports, and record what they receive.
"""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server was sent: one parsed message per delivery."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content)
        parsed["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def subjects(self, address: str) -> list[str]:
        return [str(m["Subject"]) for m in self.to(address)]

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]

    def wait_for(self, count: int, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return
            time.sleep(0.01)


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname=LOOPBACK, port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@dataclass
class Hook:
    """A chat webhook that answers from a script, and records every request.

    `script` maps a path to the answers to give in turn: a status code, or
    "timeout" (answer after `slow` seconds); once used up, it answers 200.
    """

    port: int
    script: dict[str, list[int | str]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    slow: float = 1.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def bodies(self, path: str = "/hook") -> list[dict[str, Any]]:
        with self.lock:
            return [body for p, body in self.requests if p == path]

    def answer(self, path: str) -> int | str:
        with self.lock:
            answers = self.script.get(path) or []
            return answers.pop(0) if answers else 200


@contextmanager
def webhook_server() -> Iterator[Hook]:
    hook = Hook(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            with hook.lock:
                hook.requests.append((self.path, body))
            answer = hook.answer(self.path)
            if answer == "timeout":
                time.sleep(hook.slow)
                answer = 200
            try:
                self.send_response(int(answer))
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the client gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    server.daemon_threads = True
    hook.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
