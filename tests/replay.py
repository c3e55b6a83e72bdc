"""A real HTTP server on loopback that replays recorded responses, for testing the network sources.

Routes map a path and its query parameters (blank ones ignored, order
irrelevant) to a recorded response. Failures can be injected before the
recordings are served: N responses with an error status, or hangs longer than
the client's timeout. Every request is logged with the time it arrived.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]


@dataclass
class Seen:
    at: float  # time.monotonic()
    path: str
    params: dict[str, str]


def _key(path: str, params: dict[str, str]) -> tuple[str, frozenset]:
    return path, frozenset((k, v) for k, v in params.items() if v != "")


class ReplayServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, frozenset], Reply] = {}
        self.requests: list[Seen] = []
        self._faults: list[tuple[str, float | int, dict[str, str]]] = []  # ("status", code, headers) / ("hang", s, {})
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a hanging handler must not hold up stop()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> "ReplayServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, path: str, params: dict[str, str], body: bytes | str, *, status: int = 200,
            content_type: str = "application/xml", headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[_key(path, params)] = Reply(status, data, content_type, headers or {})

    def add_arxiv_recording(self, file: Path, *, path: str = "/api/query") -> None:
        """An arXiv API recording ({url, status_code, body}) served at path for its url's query."""
        recording = json.loads(file.read_text())
        params = dict(parse_qsl(urlsplit(recording["url"]).query, keep_blank_values=True))
        # The recordings store the body decoded as latin-1; these are the bytes arXiv sent.
        self.add(path, params, recording["body"].encode("latin-1"), status=recording["status_code"],
                 content_type="application/atom+xml; charset=utf-8")

    def fail_next(self, count: int, *, status: int = 503, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._faults.extend(("status", status, headers) for _ in range(count))

    def hang_next(self, count: int, *, seconds: float) -> None:
        self._faults.extend(("hang", seconds, {}) for _ in range(count))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                split = urlsplit(self.path)
                params = dict(parse_qsl(split.query, keep_blank_values=True))
                with replay._lock:
                    replay.requests.append(Seen(time.monotonic(), split.path, params))
                    fault = replay._faults.pop(0) if replay._faults else None
                if fault and fault[0] == "hang":
                    time.sleep(fault[1])
                    return  # the client has given up by now; send nothing
                if fault:
                    reply = Reply(int(fault[1]), b"injected failure", "text/plain", fault[2])
                else:
                    reply = replay.routes.get(_key(split.path, params)) or Reply(
                        404, f"no recording for {self.path}".encode(), "text/plain", {}
                    )
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args) -> None:  # keep test output clean
                pass

        return Handler
