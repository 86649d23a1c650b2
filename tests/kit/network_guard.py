"""The tests' promise that nothing reaches the real Discord or OpenRouter, kept by the socket layer.

Some tests name the real hosts (`discord.com`, `openrouter.ai`, `media.discord.net`) because the bot
must treat those origins specially (trusted media, redaction of webhook URLs); they only build and
compare strings. This guard makes that a fact rather than a reading of each test: while it is installed,
a socket of this process may connect only to loopback addresses or Unix sockets, so a test that did try
a real host fails at once with `OffLimits`, before a single packet leaves. Processes the tests start
(`python -m bot`) are pointed at the stand-ins on 127.0.0.1 by their settings.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["OffLimits", "loopback_only"]


class OffLimits(OSError):
    """A test tried to connect somewhere other than this machine."""


def _is_loopback(address: Any, family: int) -> bool:
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True  # Unix sockets (the PostgreSQL server's local socket) stay on this machine
    host = address[0] if isinstance(address, tuple) else address
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a name: sockets connect to addresses, so a name here was never resolved


@contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse every connection of this process to an address that is not loopback, while the block runs."""
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_loopback(address, self.family):
            raise OffLimits(f"tests may connect only to loopback addresses, not {address!r}")
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_loopback(address, self.family):
            raise OffLimits(f"tests may connect only to loopback addresses, not {address!r}")
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
