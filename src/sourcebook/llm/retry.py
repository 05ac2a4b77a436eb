"""Retries for LLM calls: exponential backoff with jitter on 429 / 5xx / timeouts / connection errors,
honouring ``Retry-After``. The SDKs' own retries are disabled so every attempt is visible in the log."""

from __future__ import annotations

import email.utils
import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger("sourcebook.llm")

T = TypeVar("T")

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class LLMError(RuntimeError):
    """An LLM call failed for good. ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 1, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.attempts = attempts
        self.retryable = retryable


class EmptyReplyError(LLMError):
    """The server answered with neither text nor tool calls (raised internally to trigger a retry)."""


@dataclass
class RetryPolicy:
    """How often and how long to wait. ``max_retries`` counts retries after the first attempt."""

    max_retries: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    jitter: float = 0.25  # ± fraction of the computed delay
    max_retry_after_s: float = 300.0  # cap on a server's Retry-After

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based), without a server hint."""
        delay = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        spread = delay * self.jitter
        return max(0.0, delay + random.uniform(-spread, spread))


def status_of(exc: BaseException) -> int | None:
    """HTTP status carried by an SDK exception, if any."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` / ``Retry-After`` seconds or HTTP date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_connection_error(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"APIConnectionError", "APITimeoutError", "TransportError", "TimeoutException"})


def _unfixable(exc: BaseException) -> str:
    """Why no retry can help (nothing listens on the port, the host name does not resolve), else ""."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
        if isinstance(e, socket.gaierror):
            return "host name does not resolve"
        text = str(e)
        if "Connection refused" in text or "[Errno 111]" in text:
            return "connection refused"
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "host name does not resolve"
        e = e.__cause__ or e.__context__
    return ""


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is worth another attempt (not when nothing listens at the address)."""
    if isinstance(exc, EmptyReplyError):
        return True
    if _unfixable(exc):
        return False
    status = status_of(exc)
    if status is not None:
        return status in RETRY_STATUS or status >= 500
    return _is_connection_error(exc) or isinstance(exc, TimeoutError | ConnectionError)


def describe_error(exc: BaseException) -> str:
    """One-line description of an SDK error (status, type and message; never request headers)."""
    status = status_of(exc)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    message = " ".join(str(message).split())[:300]
    prefix = f"HTTP {status}" if status is not None else type(exc).__name__
    why = _unfixable(exc)
    if why and why not in message.lower():
        message = f"{message} ({why})"
    return f"{prefix}: {message}"


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str = "LLM call",
    sleep: Callable[[float], Any] = time.sleep,
) -> tuple[T, int]:
    """Run ``fn`` until it succeeds or retries run out → ``(result, attempts)``; raises :class:`LLMError`."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn(), attempt
        except LLMError as exc:
            if not exc.retryable or attempt > policy.max_retries:
                exc.attempts = attempt
                raise
            last: BaseException = exc
        except Exception as exc:  # SDK errors of either provider
            if not is_retryable(exc) or attempt > policy.max_retries:
                raise LLMError(
                    f"{what} failed after {attempt} attempt(s): {describe_error(exc)}",
                    status=status_of(exc),
                    attempts=attempt,
                    retryable=is_retryable(exc),
                ) from exc
            last = exc
        hint = retry_after_s(last)
        delay = min(hint, policy.max_retry_after_s) if hint is not None else policy.backoff(attempt)
        log.warning(
            "%s: %s; retry %d/%d in %.2fs%s",
            what,
            describe_error(last),
            attempt,
            policy.max_retries,
            delay,
            " (Retry-After)" if hint is not None else "",
        )
        sleep(delay)
