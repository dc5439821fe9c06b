"""A real HTTP server on loopback (http.server in a thread) that serves admin-API report pages.

Each path has a script: a list of replies served in order (status, headers, body), the last one
repeated. Pages follow the documented shapes: `{"object": "page", "data": [buckets], "has_more",
"next_page"}`, the cursor coming back as `?page=`. Every request is recorded (path, query, headers)
so tests can check what the connector asked for.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def page(buckets: list[dict], next_page: str | None = None) -> str:
    return json.dumps(
        {"object": "page", "data": buckets, "has_more": next_page is not None, "next_page": next_page}, indent=2
    )  # pretty-printed on purpose: a landed page must still be one JSONL line


class AdminApiServer:
    def __init__(self) -> None:
        self.routes: dict[str, dict[str | None, list[Reply]]] = {}
        self.requests: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                query = parse_qsl(url.query, keep_blank_values=True)
                with server._lock:
                    server.requests.append((url.path, query, {k.lower(): v for k, v in self.headers.items()}))
                    reply = server._next(url.path, dict(query).get("page"))
                data = reply.body.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def serve(self, path: str, replies: list[Reply], cursor: str | None = None) -> None:
        """Replies for `path` (and, for a later page, its `page` cursor), served in order."""
        with self._lock:
            self.routes.setdefault(path, {})[cursor] = list(replies)

    def serve_pages(self, path: str, pages: list[list[dict]]) -> None:
        """Several pages chained by cursors page_1, page_2, ..."""
        for i, buckets in enumerate(pages):
            cursor = f"page_{i + 1}" if i + 1 < len(pages) else None
            self.serve(path, [Reply(body=page(buckets, cursor))], None if i == 0 else f"page_{i}")

    def _next(self, path: str, cursor: str | None) -> Reply:
        script = self.routes.get(path, {}).get(cursor)
        if not script:
            return Reply(404, json.dumps({"error": {"message": f"no route {path} page={cursor}"}}))
        return script.pop(0) if len(script) > 1 else script[0]

    def requests_to(self, path: str) -> list[tuple[str, list[tuple[str, str]], dict[str, str]]]:
        return [r for r in self.requests if r[0] == path]

    def __enter__(self) -> AdminApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
