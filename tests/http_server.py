"""A real HTTP server on 127.0.0.1 for download tests: serves the files it is given, optionally slowly."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 64 * 1024


@dataclass
class Served:
    base: str  # "http://127.0.0.1:PORT/"
    requests: list[str] = field(default_factory=list)  # paths asked for, in order
    stopped: threading.Event = field(default_factory=threading.Event)  # the test is over: slow answers end


@contextlib.contextmanager
def serving(files: dict[str, bytes], seconds_per_chunk: float = 0.0) -> Iterator[Served]:
    """Serve ``files`` (path -> bytes; anything else is a 404) until the block ends."""
    served = Served("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.lstrip("/")
            served.requests.append(path)
            if path not in files:
                self.send_error(404, "Not Found")
                return
            data = files[path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for start in range(0, len(data), CHUNK):
                if served.stopped.is_set():
                    return
                try:
                    self.wfile.write(data[start:start + CHUNK])
                except OSError:  # the client hung up (a cancelled download)
                    return
                if seconds_per_chunk:
                    served.stopped.wait(seconds_per_chunk)  # a slow line, not a test waiting

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    served.base = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.stopped.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
