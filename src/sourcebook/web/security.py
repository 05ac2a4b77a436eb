"""Web app safety: paths confined to their roots, the access token, CSRF tokens, loopback Host checks."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from pathlib import Path

from sourcebook.errors import SourcebookError

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


class PathError(SourcebookError):
    """A requested path lies outside the directory it must stay in."""


def is_loopback(host: str) -> bool:
    """Is ``host`` a loopback name or address (127.0.0.0/8, ::1, localhost)?"""
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def host_of(header: str) -> str:
    """The host part of a ``Host`` header (port removed, IPv6 brackets kept off)."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def confined(root: Path, relative: str) -> Path:
    """``root / relative`` resolved, when it stays inside ``root`` (symlinks followed); :class:`PathError`
    for absolute paths, ``..`` escapes, NUL bytes and symlinks pointing outside."""
    if not relative or "\x00" in relative or relative.startswith(("/", "\\")) or ":" in relative.split("/")[0]:
        raise PathError(f"{relative!r}: not a relative path")
    base = Path(root).resolve()
    target = (base / relative).resolve()
    if target != base and not target.is_relative_to(base):
        raise PathError(f"{relative!r}: outside the allowed directory")
    return target


def make_token() -> str:
    """A fresh random access token."""
    return secrets.token_urlsafe(24)


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison of an offered token with the expected one."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


class Csrf:
    """CSRF tokens bound to a browser session: token = HMAC(secret, session id)."""

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret or secrets.token_bytes(32)

    def token_for(self, session: str) -> str:
        """The form token of ``session``."""
        return hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()

    def valid(self, session: str | None, token: str | None) -> bool:
        """Does ``token`` belong to ``session``?"""
        return bool(session) and bool(token) and hmac.compare_digest(self.token_for(str(session)), str(token))
