"""A real OpenAI-compatible ``/v1/embeddings`` HTTP server on 127.0.0.1 for tests: vectors are hashed
character-trigram counts (texts sharing words get close vectors), every text received is recorded."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

DIM = 64


def trigram_vector(text: str, dim: int = DIM) -> list[float]:
    v = np.zeros(dim, dtype=np.float64)
    t = f"  {text.lower()}  "
    for i in range(len(t) - 2):
        v[int(hashlib.md5(t[i: i + 3].encode()).hexdigest(), 16) % dim] += 1.0
    n = np.linalg.norm(v)
    return (v / n if n else v).tolist()


class EmbeddingServer:
    """Serve embeddings in a thread; ``received`` lists every input text, ``delay_s`` slows each request,
    ``fail_status`` makes every request fail with that HTTP status."""

    def __init__(self, delay_s: float = 0.0, fail_status: int = 0) -> None:
        self.received: list[str] = []
        self.delay_s, self.fail_status = delay_s, fail_status
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/v1/embeddings" or server.fail_status:
                    self.send_response(server.fail_status or 404)
                    self.end_headers()
                    self.wfile.write(b'{"error": "no"}')
                    return
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                time.sleep(server.delay_s)
                server.received.extend(texts)
                data = [{"object": "embedding", "index": i, "embedding": trigram_vector(t)}
                        for i, t in enumerate(texts)]
                out = json.dumps({"object": "list", "data": data[::-1], "model": body["model"]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                try:
                    self.wfile.write(out)
                except BrokenPipeError:  # the client was killed mid-request
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> EmbeddingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
