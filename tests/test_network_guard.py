"""The test session's network guard: loopback only (`tests.kit.network_guard`)."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from tests.kit.network_guard import OffLimits


def test_a_connection_to_a_public_address_is_refused_before_it_is_made() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(OffLimits):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: documentation only, never a real host


async def test_an_http_client_cannot_reach_a_real_host_either() -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        with pytest.raises((OffLimits, httpx.ConnectError)) as raised:
            await client.get("https://198.51.100.7/")  # TEST-NET-2
    chain: list[BaseException] = []
    error: BaseException | None = raised.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(link, OffLimits) for link in chain), "refused by the guard, not by the network"


async def test_loopback_stays_open() -> None:
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
