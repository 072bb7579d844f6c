"""A real HTTP server on loopback that keeps every request it receives (webhook tests)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"


@dataclass
class Receiver:
    """Requests as (method, path, headers, body); ``status`` is what it answers."""

    url: str = ""
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """A started receiver on an ephemeral port; stopped when the block ends."""
    kept = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            kept.requests.append((self.command, self.path, dict(self.headers), body))
            self.send_response(kept.status)
            self.end_headers()

        do_POST = do_PUT = do_GET = _any  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
    kept.url = f"http://{LOOPBACK}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield kept
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
