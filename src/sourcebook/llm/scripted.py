"""A scripted LLM server for tests and benchmarks: a real HTTP server on 127.0.0.1 that speaks the OpenAI
chat-completions wire format (``POST /v1/chat/completions``) and the Anthropic messages wire format
(``POST /v1/messages``), streaming (SSE) and not, and plays scripted turns in order across requests::

    with ScriptedServer([{"text": "hello"}]) as srv:
        client = OpenAIClient("scripted", base_url=srv.openai_base_url, api_key="test")
        # or AnthropicClient("scripted", base_url=srv.anthropic_base_url, api_key="test")
        ...
        srv.requests  # the JSON bodies received, in order

Turn format (a list of mappings; YAML/JSON files via :meth:`ScriptedServer.from_file`)::

    - text: "plain reply"                       # assistant text, finish "stop"
    - tool_calls:                               # native tool calls, named server__name on the wire
        - {server: tool-rag, name: rag_search, arguments: {query: "…"}}
    - text: "<use_mcp_tool>…</use_mcp_tool>"     # the xml dialect is just text
    - tool_calls: [{server: tool-rag, name: rag_search, raw_arguments: "{not json"}]  # malformed call
    - fault: 429, retry_after: 1                # HTTP 429 with a Retry-After header (seconds)
    - fault: 500                                # any HTTP status ≥ 400
    - fault: timeout, delay_s: 5                # sleep longer than the client timeout before answering
    - fault: disconnect                         # close the connection without an answer
    - fault: empty                              # 200 with empty content and no tool calls
    - fault: truncate                           # start answering, then drop the connection half-way
    - delay_s: 0.2                              # optional on any turn: wait before answering
    - respond: <callable>                       # Python only: callable(request_json) -> turn mapping
    # optional on any reply turn: finish_reason (stop|length|tool_calls), reasoning (OpenAI
    # ``reasoning_content``), usage: {prompt_tokens, completion_tokens}

Every request consumes one turn, faults included. When the script is exhausted the server answers with
``default`` (text ``"done"`` unless configured). Usage is reported in every reply (prompt = characters of
the request's messages, system and tools / 4; completion = characters of the reply / 4, unless the turn
gives ``usage``); :attr:`ScriptedServer.served` lists what each request got, including that usage.

Run standalone: ``python -m sourcebook.llm.scripted script.yaml [--port N]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from .dialects import encode_tool_name

log = logging.getLogger("sourcebook.llm.scripted")

Turn = Mapping[str, Any]
TURN_KEYS = {
    "text", "tool_calls", "fault", "retry_after", "delay_s", "respond", "finish_reason", "reasoning", "usage",
}
CALL_KEYS = {"server", "name", "arguments", "raw_arguments", "id"}
NAMED_FAULTS = {"timeout", "empty", "disconnect", "truncate"}


def validate_turn(turn: Any, where: str = "turn") -> dict[str, Any]:
    """Check one scripted turn; raise ``ValueError`` saying what is wrong with it."""
    if not isinstance(turn, Mapping):
        raise ValueError(f"{where}: a turn must be a mapping, got {type(turn).__name__}")
    unknown = set(turn) - TURN_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(TURN_KEYS)}")
    if "respond" in turn and not callable(turn["respond"]):
        raise ValueError(f"{where}: 'respond' must be a callable(request_json) -> turn")
    fault = turn.get("fault")
    if fault is not None:
        if isinstance(fault, str) and not fault.isdigit() and fault not in NAMED_FAULTS:
            raise ValueError(f"{where}: fault must be an HTTP status or one of {sorted(NAMED_FAULTS)}, got {fault!r}")
        if (isinstance(fault, int) or (isinstance(fault, str) and fault.isdigit())) and int(fault) < 400:
            raise ValueError(f"{where}: fault status must be >= 400, got {fault}")
    for i, call in enumerate(turn.get("tool_calls") or []):
        if not isinstance(call, Mapping) or "name" not in call:
            raise ValueError(f"{where}: tool_calls[{i}] needs at least a 'name'")
        extra = set(call) - CALL_KEYS
        if extra:
            raise ValueError(f"{where}: tool_calls[{i}] has unknown key(s) {sorted(extra)}")
    return dict(turn)


@dataclass
class Served:
    """What one request received."""

    api: str  # "openai" | "anthropic"
    turn: dict[str, Any]
    stream: bool
    status: int = 200
    prompt_tokens: int = 0
    completion_tokens: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedServer:
    """Scripted OpenAI/Anthropic-compatible HTTP server on a random free port (background thread)."""

    def __init__(
        self,
        turns: Iterable[Turn] = (),
        *,
        default: Turn | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        chunk_chars: int = 12,
        model: str | None = None,
    ) -> None:
        self.turns: list[dict[str, Any]] = [validate_turn(t, f"turn {i}") for i, t in enumerate(turns)]
        self.default = validate_turn(default or {"text": "done"}, "default turn")
        self.chunk_chars = max(1, chunk_chars)
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.served: list[Served] = []
        self._next = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- construction ----------------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path, **options: Any) -> ScriptedServer:
        """Load a script: a list of turns, or ``{turns: [...], default: {...}}``, as YAML or JSON."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))  # YAML is a superset of JSON
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read LLM script: {exc}") from exc
        if isinstance(data, Mapping):
            extra = set(data) - {"turns", "default"}
            if "turns" not in data or extra:
                raise ValueError(
                    f"{path}: an LLM script is a list of turns or a mapping with 'turns' (and 'default')"
                    + (f"; unknown key(s) {sorted(extra)}" if extra else "")
                )
            turns, default = data["turns"] or [], data.get("default")
        elif data is None:
            turns, default = [], None
        else:
            turns, default = data, None
        if not isinstance(turns, list):
            raise ValueError(f"{path}: an LLM script is a list of turns or a mapping with 'turns'")
        try:
            return cls(turns, default=default if default is not None else options.pop("default", None), **options)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc

    def add(self, *turns: Turn) -> None:
        """Append turns to the script (also while serving)."""
        checked = [validate_turn(t, f"turn {len(self.turns) + i}") for i, t in enumerate(turns)]
        with self._lock:
            self.turns.extend(checked)

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> ScriptedServer:
        """Bind and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        handler = type("ScriptedHandler", (_Handler,), {"scripted": self})
        httpd = ThreadingHTTPServer((self._host, self._port), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="scripted-llm", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; pending delayed answers are cut short."""
        self._closing.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- addresses -------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("scripted server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def remaining(self) -> int:
        """Scripted turns not played yet."""
        with self._lock:
            return max(0, len(self.turns) - self._next)

    # -- turn selection --------------------------------------------------------------------------------
    def _take(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.requests.append(body)
            if self._next < len(self.turns):
                turn = self.turns[self._next]
                self._next += 1
            else:
                turn = self.default
        respond = turn.get("respond")
        if respond is not None:
            produced = respond(body)
            turn = validate_turn(produced, "respond() result") if produced is not None else self.default
        return turn

    def _wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False when the server is closing."""
        return not self._closing.wait(max(0.0, float(seconds)))


# ------------------------------------------------------------------------------------------ wire formats


def _estimate_prompt(body: dict[str, Any]) -> int:
    parts = [body.get("messages"), body.get("system"), body.get("tools")]
    return max(1, len(json.dumps([p for p in parts if p], ensure_ascii=False)) // 4)


def _wire_calls(turn: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(id_suffix, wire_name, arguments_json)`` of a turn's tool calls."""
    calls = []
    for i, call in enumerate(turn.get("tool_calls") or []):
        server = str(call.get("server") or "")
        name = str(call["name"])
        wire = encode_tool_name(server, name) if server else name
        raw = call.get("raw_arguments")
        arguments = raw if raw is not None else json.dumps(call.get("arguments") or {}, ensure_ascii=False)
        calls.append((str(call.get("id") or i), wire, str(arguments)))
    return calls


def _usage_for(turn: dict[str, Any], body: dict[str, Any]) -> tuple[int, int]:
    given = turn.get("usage") or {}
    prompt = int(given.get("prompt_tokens", given.get("input_tokens", _estimate_prompt(body))))
    produced = len(str(turn.get("text") or "")) + sum(len(a) + len(n) for _, n, a in _wire_calls(turn))
    completion = int(given.get("completion_tokens", given.get("output_tokens", -(-produced // 4))))
    return prompt, completion


def _chunks(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start:start + size]


class _Cut(Exception):
    """Raised to drop the connection in the middle of an answer (``fault: truncate``)."""


class _Handler(BaseHTTPRequestHandler):
    scripted: ScriptedServer
    server_version = "ScriptedLLM/1.0"
    cut_after_events: int | None = None  # for ``fault: truncate``: SSE events sent before dropping
    _events_sent = 0

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)

    # -- routing ---------------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path.rstrip("/").endswith("/models"):
            model = self.scripted.model or "scripted"
            self._send_json(200, {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "local"}]})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.endswith("/chat/completions"):
            api = "openai"
        elif path.endswith("/messages"):
            api = "anthropic"
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("request body must be a JSON object")
        except ValueError as exc:
            self._send_error(api, 400, f"invalid JSON body: {exc}")
            return
        turn = self.scripted._take(body)
        stream = bool(body.get("stream"))
        served = Served(api=api, turn=turn, stream=stream, headers={k.lower(): v for k, v in self.headers.items()})
        with self.scripted._lock:
            self.scripted.served.append(served)
        try:
            self._play(api, body, turn, stream, served)
        except _Cut:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            log.debug("client went away before the scripted answer was sent")

    # -- playing a turn --------------------------------------------------------------------------------
    def _play(self, api: str, body: dict[str, Any], turn: dict[str, Any], stream: bool, served: Served) -> None:
        if turn.get("delay_s") and turn.get("fault") != "timeout" and not self.scripted._wait(turn["delay_s"]):
            return
        fault = turn.get("fault")
        if fault == "disconnect":
            served.status = 0
            self.close_connection = True
            return
        if fault == "timeout":
            if not self.scripted._wait(turn.get("delay_s", 30.0)):
                return
            turn = {k: v for k, v in turn.items() if k not in ("fault", "delay_s")} or dict(self.scripted.default)
            if not turn.get("text") and not turn.get("tool_calls"):
                turn = dict(self.scripted.default)
        elif fault is not None and fault != "empty":
            served.status = int(fault)
            headers = {}
            if turn.get("retry_after") is not None:
                headers["Retry-After"] = str(turn["retry_after"])
            self._send_error(api, served.status, f"scripted fault {served.status}", headers)
            return
        if fault == "empty":
            turn = {"text": "", **{k: v for k, v in turn.items() if k in ("usage", "finish_reason")}}
        if fault == "truncate":
            self.cut_after_events = 3
            if not turn.get("text") and not turn.get("tool_calls"):
                turn = {"text": "this answer will be cut off in the middle"}
        served.prompt_tokens, served.completion_tokens = _usage_for(turn, body)
        model = self.scripted.model or str(body.get("model") or "scripted")
        if api == "openai":
            self._openai(body, turn, model, stream, served)
        else:
            self._anthropic(turn, model, stream, served)

    def _openai(self, body: dict[str, Any], turn: dict[str, Any], model: str, stream: bool, served: Served) -> None:
        ident = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        number = len(self.scripted.served)
        calls = _wire_calls(turn)
        text = str(turn.get("text") or "")
        finish = turn.get("finish_reason") or ("tool_calls" if calls else "stop")
        usage = {
            "prompt_tokens": served.prompt_tokens,
            "completion_tokens": served.completion_tokens,
            "total_tokens": served.prompt_tokens + served.completion_tokens,
        }
        wire_calls = [
            {"id": f"call_{number}_{sid}", "type": "function", "function": {"name": name, "arguments": args}}
            for sid, name, args in calls
        ]
        if not stream:
            message: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None}
            if wire_calls:
                message["tool_calls"] = wire_calls
            if turn.get("reasoning"):
                message["reasoning_content"] = turn["reasoning"]
            self._send_json(200, {
                "id": ident, "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                "usage": usage,
            })
            return

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                "id": ident, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
            }

        self._start_sse()
        self._sse(chunk({"role": "assistant", "content": ""}))
        for piece in _chunks(str(turn.get("reasoning") or ""), self.scripted.chunk_chars):
            self._sse(chunk({"reasoning_content": piece}))
        for piece in _chunks(text, self.scripted.chunk_chars):
            self._sse(chunk({"content": piece}))
        for index, call in enumerate(wire_calls):
            head = {"index": index, "id": call["id"], "type": "function",
                    "function": {"name": call["function"]["name"], "arguments": ""}}
            self._sse(chunk({"tool_calls": [head]}))
            for piece in _chunks(call["function"]["arguments"], self.scripted.chunk_chars):
                self._sse(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
        self._sse(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            self._sse({"id": ident, "object": "chat.completion.chunk", "created": int(time.time()),
                       "model": model, "choices": [], "usage": usage})
        self._write(b"data: [DONE]\n\n")

    def _anthropic(self, turn: dict[str, Any], model: str, stream: bool, served: Served) -> None:
        ident = f"msg_{uuid.uuid4().hex[:12]}"
        number = len(self.scripted.served)
        calls = _wire_calls(turn)
        text = str(turn.get("text") or "")
        finish = turn.get("finish_reason") or ("tool_calls" if calls else "stop")
        stop_reason = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}.get(finish, finish)
        blocks: list[dict[str, Any]] = []
        if text:
            blocks.append({"type": "text", "text": text})
        for sid, name, args in calls:
            try:
                value: Any = json.loads(args)
            except ValueError:
                value = args  # malformed on purpose: the client must cope
            blocks.append({"type": "tool_use", "id": f"toolu_{number}_{sid}", "name": name, "input": value,
                           "_raw": args})
        usage = {"input_tokens": served.prompt_tokens, "output_tokens": served.completion_tokens}
        if not stream:
            self._send_json(200, {
                "id": ident, "type": "message", "role": "assistant", "model": model,
                "content": [{k: v for k, v in b.items() if k != "_raw"} for b in blocks],
                "stop_reason": stop_reason, "stop_sequence": None, "usage": usage,
            })
            return
        self._start_sse()
        self._sse({"type": "message_start", "message": {
            "id": ident, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": served.prompt_tokens, "output_tokens": 0},
        }}, event="message_start")
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                self._sse({"type": "content_block_start", "index": index,
                           "content_block": {"type": "text", "text": ""}}, event="content_block_start")
                for piece in _chunks(block["text"], self.scripted.chunk_chars):
                    self._sse({"type": "content_block_delta", "index": index,
                               "delta": {"type": "text_delta", "text": piece}}, event="content_block_delta")
            else:
                self._sse({"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}},
                    event="content_block_start")
                for piece in _chunks(block["_raw"], self.scripted.chunk_chars):
                    self._sse({"type": "content_block_delta", "index": index,
                               "delta": {"type": "input_json_delta", "partial_json": piece}},
                              event="content_block_delta")
            self._sse({"type": "content_block_stop", "index": index}, event="content_block_stop")
        self._sse({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                   "usage": {"output_tokens": served.completion_tokens}}, event="message_delta")
        self._sse({"type": "message_stop"}, event="message_stop")

    # -- low level -------------------------------------------------------------------------------------
    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.cut_after_events is not None:
            self._write(data[: len(data) // 2])
            raise _Cut
        self._write(data)

    def _send_error(self, api: str, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        kind = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        if api == "anthropic":
            payload: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            payload = {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}
        self._send_json(status, payload, headers)

    def _start_sse(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.close_connection = True

    def _sse(self, payload: Any, event: str | None = None) -> None:
        if self.cut_after_events is not None and self._events_sent >= self.cut_after_events:
            raise _Cut
        self._events_sent += 1
        prefix = f"event: {event}\n" if event else ""
        self._write(f"{prefix}data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()


def main(argv: list[str] | None = None) -> None:
    """Serve a script file until interrupted (prints the base URLs)."""
    parser = argparse.ArgumentParser(prog="python -m sourcebook.llm.scripted", description=__doc__.splitlines()[0])
    parser.add_argument("script", type=Path, help="YAML or JSON list of turns")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = ScriptedServer.from_file(args.script, port=args.port)
    with server:
        print(f"OpenAI base URL:    {server.openai_base_url}")
        print(f"Anthropic base URL: {server.anthropic_base_url}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()


__all__ = ["ScriptedServer", "Served", "validate_turn", "main"]
