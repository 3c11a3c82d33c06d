"""A real HTTP server on loopback whose answers each test programs, for feed fetching tests
(GET) and webhook deliveries (POST, the body kept)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(frozen=True)
class Reply:
    """One programmed answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = True
    """Without it the body ends when the connection closes (no length announced)."""
    hang: float = 0.0
    """Seconds of silence before the status line (cut short when the server stops)."""
    drip: float = 0.0
    """Pause between body pieces of `drip_size` bytes: a server that is slow, not silent."""
    drip_size: int = 1


Answer = Reply | Callable[["Seen"], Reply]


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    path: str
    headers: Message
    body: bytes = b""
    method: str = "GET"


class FeedServer:
    """`route(path, a, b, c)` answers a, then b, then c, then c again for every later request;
    an answer may be a function of the request. Unrouted paths answer 404."""

    def __init__(self) -> None:
        self._routes: dict[str, list[Answer]] = {}
        self._served: dict[str, int] = defaultdict(int)
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    @property
    def base(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, *answers: Answer) -> str:
        with self._lock:
            self._routes[path] = list(answers)
            self._served[path] = 0
        return self.url(path)

    def hits(self, path: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.path == path]

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._served.clear()
            self.requests.clear()

    def answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            answers = self._routes.get(seen.path)
            if not answers:
                return Reply(404, b"not here\n")
            index = min(self._served[seen.path], len(answers) - 1)
            self._served[seen.path] += 1
        answer = answers[index]
        return answer if isinstance(answer, Reply) else answer(seen)

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(5)


def _handler_for(feed: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._send(feed.answer(Seen(self.path, self.headers)))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send(feed.answer(Seen(self.path, self.headers, body, "POST")))

        def _send(self, reply: Reply) -> None:
            if reply.hang:
                feed.stopping.wait(reply.hang)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.content_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if not reply.drip:
                    self.wfile.write(reply.body)
                for start in range(0, len(reply.body) if reply.drip else 0, reply.drip_size):
                    self.wfile.write(reply.body[start : start + reply.drip_size])
                    self.wfile.flush()
                    if feed.stopping.wait(reply.drip):
                        break
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests assert on `feed.requests` instead."""

    return Handler
