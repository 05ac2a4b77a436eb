"""The tool registry: typed Python functions (and mounted MCP tools) offered to the model, grouped as servers.

A local tool is a plain function with type hints and a docstring; its JSON schema is derived from the
signature with pydantic (argument descriptions come from the docstring's ``Args:`` section) and arguments are
validated and coerced through the same model before the call. Each call runs in a worker thread with a
deadline; a failing, invalid or timed-out call comes back as error text (``ToolResult.error``) and never
raises into the caller.
"""

from __future__ import annotations

import concurrent.futures as cf
import inspect
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import ConfigDict, Field, ValidationError, create_model

if TYPE_CHECKING:
    from sourcebook.llm.types import ToolSpec

DEFAULT_TIMEOUT_S = 60.0
MAX_RESULT_CHARS = 24_000


class ToolError(Exception):
    """A tool refused its input (bad path, unknown file, bad range); the message goes back to the model."""


@dataclass
class ToolResult:
    """What a tool call produced. ``text`` is what the model sees (the error text when it failed)."""

    text: str
    error: str | None = None
    passage_ids: list[str] = field(default_factory=list)

    @classmethod
    def failed(cls, message: str) -> ToolResult:
        """A failed call: the model sees ``ERROR: <message>``."""
        return cls(f"ERROR: {message}", message)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Tool:
    """One registered tool. ``fn`` takes keyword arguments already validated against ``parameters``."""

    server: str
    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[..., Any]
    timeout_s: float = DEFAULT_TIMEOUT_S
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def spec(self) -> ToolSpec:
        # imported here: ``sourcebook.llm`` pulls in both provider SDKs, which a bare MCP server never needs
        from sourcebook.llm.types import ToolSpec

        return ToolSpec(self.server, self.name, self.description, self.parameters)

    @property
    def wire_name(self) -> str:
        return f"{self.server}__{self.name}"


# ---------------------------------------------------------------------------------------------------------
# schema from a typed function
# ---------------------------------------------------------------------------------------------------------
_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters)\s*:\s*$")
_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")
_SECTION = re.compile(r"^\s*(Returns?|Raises|Yields|Examples?|Notes?)\s*:\s*$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {argument: description})."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    desc: list[str] = []
    args: dict[str, str] = {}
    mode = "desc"
    current: str | None = None
    for line in lines:
        if _ARGS_HEADER.match(line):
            mode, current = "args", None
            continue
        if _SECTION.match(line):
            mode, current = "other", None
            continue
        if mode == "desc":
            desc.append(line)
        elif mode == "args":
            m = _ARG_LINE.match(line)
            indent = len(line) - len(line.lstrip())
            if m and (current is None or indent <= 4):
                current = m.group(1).lstrip("*")
                args[current] = m.group(3).strip()
            elif current and line.strip():
                args[current] = (args[current] + " " + line.strip()).strip()
    return "\n".join(desc).strip(), args


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def schema_for(fn: Callable[..., Any]) -> tuple[str, dict[str, Any], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Description, JSON schema and an argument validator for a typed function (bound methods work)."""
    sig = inspect.signature(fn)
    try:
        hints = get_type_hints(fn)
    except Exception:
        hints = {}
    description, arg_docs = parse_docstring(inspect.getdoc(fn))
    fields: dict[str, Any] = {}
    for name, p in sig.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or name in ("self", "settings"):
            continue
        ann = hints.get(name, Any if p.annotation is p.empty else p.annotation)
        default = ... if p.default is p.empty else p.default
        fields[name] = (ann, Field(default, description=arg_docs.get(name) or None))
    model = create_model(  # type: ignore[call-overload]
        f"{getattr(fn, '__name__', 'tool')}_args", __config__=ConfigDict(extra="ignore"), **fields
    )
    schema = _strip_titles(model.model_json_schema())
    schema.setdefault("properties", {})
    schema["type"] = "object"

    def validate(arguments: dict[str, Any]) -> dict[str, Any]:
        obj = model.model_validate(arguments or {})
        return {k: getattr(obj, k) for k in fields}

    return description, schema, validate


# ---------------------------------------------------------------------------------------------------------
# paths confined to the task folder
# ---------------------------------------------------------------------------------------------------------
def confine_path(folder: Path, path: str) -> tuple[Path, str]:
    """Resolve ``path`` (relative to ``folder``, or absolute inside it) and return (absolute, relative POSIX).

    Rejects ``..`` components, absolute paths outside the folder and symlinks that lead out of it.
    """
    if not isinstance(path, str) or not path.strip():
        raise ToolError("path is empty")
    root = Path(folder).resolve()
    raw = path.strip().replace("\\", "/")
    p = Path(raw)
    if ".." in p.parts:
        raise ToolError(f"{path}: '..' is not allowed; give a path inside the task folder")
    if p.is_absolute():
        candidate = p
    else:
        if raw.startswith("./"):
            raw = raw[2:]
        candidate = root / raw
    # resolve() follows symlinks, so a link inside the folder that points out of it is refused here too
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise ToolError(f"{path}: outside the task folder")
    rel = resolved.relative_to(root).as_posix()
    return resolved, rel


# ---------------------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------------------
def _collect_ids(obj: Any, out: list[str]) -> None:
    if isinstance(obj, dict):
        pid = obj.get("passage_id")
        if isinstance(pid, str) and pid not in out:
            out.append(pid)
        for v in obj.values():
            if isinstance(v, dict | list):
                _collect_ids(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _collect_ids(v, out)


_ID_IN_TEXT = re.compile(r"passage_id[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9_\-:.]+)")


def passage_ids_in(text: str) -> list[str]:
    """Passage ids mentioned in a text (JSON ``"passage_id": "..."`` or ``passage_id: ...``), in order."""
    return list(dict.fromkeys(_ID_IN_TEXT.findall(text or "")))


def render_result(value: Any) -> tuple[str, list[str]]:
    """Turn a tool's return value into (text for the model, passage ids it mentions)."""
    ids: list[str] = []
    if isinstance(value, str):
        text = value
        ids = passage_ids_in(value)
    elif value is None:
        text = "(no result)"
    else:
        _collect_ids(value, ids)
        text = json.dumps(value, ensure_ascii=False, indent=1, default=str)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"\n…[truncated: {len(text) - MAX_RESULT_CHARS} more characters]"
    return text, ids


# ---------------------------------------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------------------------------------
class ToolRegistry:
    """Tools grouped by server name; ``call`` is the only way the agent runs them."""

    def __init__(self, max_workers: int = 4) -> None:
        self._tools: dict[tuple[str, str], Tool] = {}
        self._executor = cf.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="tool")
        self._closers: list[Callable[[], None]] = []
        self._providers: list[Callable[[ToolRegistry], None]] = []
        self._lock = threading.Lock()

    # -- registration -------------------------------------------------------------------------------------
    def add(
        self,
        fn: Callable[..., Any],
        server: str,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> Tool:
        """Register a typed function as ``server``/``name`` (schema derived from its signature)."""
        doc, schema, validate = schema_for(fn)
        tool = Tool(server, name or fn.__name__, description or doc or (name or fn.__name__), schema, fn,
                    timeout_s, validate)
        self._tools[(tool.server, tool.name)] = tool
        return tool

    def add_raw(
        self,
        server: str,
        name: str,
        description: str,
        parameters: dict[str, Any],
        fn: Callable[[dict[str, Any]], Any],
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> Tool:
        """Register a tool known only by its JSON schema (e.g. from a mounted MCP server).

        ``fn`` receives the arguments dict unvalidated."""
        tool = Tool(server, name, description, parameters or {"type": "object", "properties": {}},
                    lambda **kw: fn(kw), timeout_s, None)
        self._tools[(server, name)] = tool
        return tool

    def add_provider(self, provider: Callable[[ToolRegistry], None]) -> None:
        """A callable that adds tools on first need (lazy start of external servers)."""
        self._providers.append(provider)

    def on_close(self, fn: Callable[[], None]) -> None:
        self._closers.append(fn)

    def _ensure(self) -> None:
        with self._lock:
            providers, self._providers = self._providers, []
        for prov in providers:
            prov(self)

    # -- lookup -------------------------------------------------------------------------------------------
    def tools(self) -> list[Tool]:
        self._ensure()
        return list(self._tools.values())

    def specs(self) -> list[ToolSpec]:
        """What the model is offered."""
        return [t.spec for t in self.tools()]

    def servers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for t in self.tools():
            out.setdefault(t.server, []).append(t.name)
        return out

    def get(self, server: str, name: str) -> Tool | None:
        """Find a tool; a model that drops or garbles the server name still finds a uniquely named tool."""
        self._ensure()
        tool = self._tools.get((server, name))
        if tool is None and "__" in name and not server:
            server, name = name.split("__", 1)
            tool = self._tools.get((server, name))
        if tool is None:
            matches = [t for (s, n), t in self._tools.items() if n == name]
            if len(matches) == 1:
                tool = matches[0]
        return tool

    # -- calling ------------------------------------------------------------------------------------------
    def call(self, server: str, name: str, arguments: dict[str, Any] | None = None,
             timeout_s: float | None = None) -> ToolResult:
        """Run one tool call with its deadline; errors come back as text, never raised."""
        tool = self.get(server, name)
        if tool is None:
            known = ", ".join(f"{t.server}/{t.name}" for t in self._tools.values())
            return ToolResult.failed(f"unknown tool {server}/{name}; available: {known}")
        try:
            kwargs = tool.validate(arguments or {}) if tool.validate else dict(arguments or {})
        except ValidationError as e:
            errs = "; ".join(f"{'.'.join(map(str, x['loc'])) or 'arguments'}: {x['msg']}" for x in e.errors())
            return ToolResult.failed(f"invalid arguments for {tool.server}/{tool.name}: {errs}")
        deadline = timeout_s if timeout_s is not None else tool.timeout_s
        future = self._executor.submit(tool.fn, **kwargs)
        try:
            value = future.result(timeout=deadline)
        except cf.TimeoutError:
            future.cancel()
            return ToolResult.failed(f"{tool.server}/{tool.name} timed out after {deadline:g} s")
        except ToolError as e:
            return ToolResult.failed(str(e))
        except Exception as e:  # a tool bug must not end the run
            return ToolResult.failed(f"{tool.server}/{tool.name} failed: {type(e).__name__}: {e}")
        text, ids = render_result(value)
        return ToolResult(text, None, ids)

    def close(self) -> None:
        """Stop mounted servers and the worker threads."""
        for fn in reversed(self._closers):
            try:
                fn()
            except Exception:
                pass
        self._closers.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> ToolRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
