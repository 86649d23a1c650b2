"""The guarded fetcher on its own: what it refuses, where it connects, and the download bounds.

Every test runs on `httpx.MockTransport` with a `StaticResolver`, so nothing is dialled or looked up in
DNS, except the last ones, which fetch from a stand-in server on 127.0.0.1 over a real socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence

import httpx
import pytest

from bot.fetcher import (
    AddressRefused,
    FetchFailed,
    GuardedFetcher,
    ResponseTooLarge,
    StaticResolver,
    is_public_address,
    origin_of,
)
from tests.fake_openrouter import FakeOpenRouter, render_png

PUBLIC = "93.184.215.14"
PUBLIC_2 = "93.184.215.15"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
PNG = render_png(4, 4)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that records every request and answers with `PNG` (or `answer`)."""

    def __init__(self, answer: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request) if self.answer else httpx.Response(200, content=PNG)


def _fetcher(handler: Handler, table: dict[str, list[str]] | None = None,
             trusted: Sequence[str] = ()) -> tuple[GuardedFetcher, StaticResolver]:
    resolver = StaticResolver(table or {})
    fetcher = GuardedFetcher(trusted_origins=trusted, transport=httpx.MockTransport(handler), resolver=resolver)
    return fetcher, resolver


# -- refusals --------------------------------------------------------------------------------------

NUMERIC_PRIVATE = [
    "http://2130706433/a.png",  # 127.0.0.1 as one decimal number
    "http://127.1/a.png",  # short dotted
    "http://0x7f.1/a.png",  # hex part
    "http://0177.1/a.png",  # octal part
    "http://0x7f000001/a.png",
    "http://017700000001/a.png",
    "http://127.0.0.1./a.png",  # trailing dot
    "http://0/a.png",  # 0.0.0.0
    "http://0.0.0.0:8080/a.png",
    "http://10.0.0.7/a.png",
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/latest/meta-data/",  # 169.254.169.254 in decimal
    "http://100.64.0.1/a.png",  # CGNAT
    "http://192.168.1.1/a.png",
    "http://172.16.0.1/a.png",
    "http://224.0.0.1/a.png",
    "http://255.255.255.255/a.png",
    "http://240.0.0.1/a.png",
    "http://[::1]/a.png",
    "http://[::]/a.png",
    "http://[::ffff:127.0.0.1]/a.png",  # IPv4-mapped
    "http://[::ffff:a9fe:a9fe]/a.png",  # IPv4-mapped metadata address
    "http://[::127.0.0.1]/a.png",  # IPv4-compatible
    "http://[64:ff9b::a9fe:a9fe]/a.png",  # NAT64 of 169.254.169.254
    "http://[2002:a9fe:a9fe::1]/a.png",  # 6to4 of 169.254.169.254
    "http://[fc00::1]/a.png",
    "http://[fd12:3456::1]/a.png",
    "http://[fe80::1]/a.png",
    "http://[ff02::1]/a.png",
    "http://localhost/a.png",
    "http://localhost./a.png",
    "https://LOCALHOST:443/a.png",
    "http://printer.localhost/a.png",
    "http://user:pw@127.0.0.1:9/a.png",
]


@pytest.mark.parametrize("url", NUMERIC_PRIVATE)
async def test_private_addresses_in_any_notation_are_refused_without_a_lookup_or_request(url: str) -> None:
    recorder = Recorder()
    fetcher, resolver = _fetcher(recorder, {"localhost": ["127.0.0.1"], "printer.localhost": ["127.0.0.1"]})
    with pytest.raises(AddressRefused) as refused:
        await fetcher.fetch(url, max_bytes=1024)
    assert refused.value.reason == "private"
    assert refused.value.why == "it points into a private network"
    assert recorder.requests == []
    assert resolver.calls == [], "numeric hosts are read as getaddrinfo reads them, localhost names are not asked"
    await fetcher.aclose()


@pytest.mark.parametrize(
    ("table", "host"),
    [
        ({"internal.example.org": ["10.0.0.5"]}, "internal.example.org"),
        ({"meta.example.org": ["169.254.169.254"]}, "meta.example.org"),
        ({"v6.example.org": ["fd00::1"]}, "v6.example.org"),
        ({"mapped.example.org": ["::ffff:192.168.0.1"]}, "mapped.example.org"),
        ({"mixed.example.org": [PUBLIC, "192.168.0.1"]}, "mixed.example.org"),  # every address must be public
        ({"mixed6.example.org": [PUBLIC_V6, "::1"]}, "mixed6.example.org"),
    ],
)
async def test_a_name_that_resolves_into_a_private_network_is_refused(table: dict[str, list[str]], host: str) -> None:
    recorder = Recorder()
    fetcher, resolver = _fetcher(recorder, table)
    with pytest.raises(AddressRefused, match="private network"):
        await fetcher.fetch(f"https://{host}/a.png", max_bytes=1024)
    assert resolver.calls == [host]
    assert recorder.requests == []
    await fetcher.aclose()


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/a.png", "gopher://example.org/", "data:image/png;base64,AA==",
            "javascript:alert(1)", "//example.org/a.png"],
)
async def test_only_http_and_https_are_fetched(url: str) -> None:
    recorder = Recorder()
    fetcher, resolver = _fetcher(recorder)
    with pytest.raises(AddressRefused) as refused:
        await fetcher.fetch(url, max_bytes=1024)
    assert refused.value.reason in {"scheme", "invalid"}
    assert recorder.requests == [] and resolver.calls == []
    await fetcher.aclose()


async def test_a_dotted_quad_with_octal_parts_is_not_a_valid_address() -> None:
    """httpx will not parse it (what it cannot parse it cannot request); refused before anything else."""
    recorder = Recorder()
    fetcher, resolver = _fetcher(recorder)
    with pytest.raises(AddressRefused) as refused:
        await fetcher.fetch("http://0177.0.0.1/a.png", max_bytes=1024)
    assert (refused.value.reason, refused.value.why) == ("invalid", "it is not a valid address")
    assert recorder.requests == [] and resolver.calls == []
    await fetcher.aclose()


async def test_a_name_that_does_not_resolve_is_a_failure_not_a_request() -> None:
    recorder = Recorder()
    fetcher, _ = _fetcher(recorder)
    with pytest.raises(FetchFailed, match="could not be found"):
        await fetcher.fetch("https://nowhere.example.org/a.png", max_bytes=1024)
    assert recorder.requests == []
    await fetcher.aclose()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True), (PUBLIC, True), (PUBLIC_V6, True), ("::ffff:8.8.8.8", True), ("64:ff9b::808:808", True),
        ("2002:808:808::1", True),
        ("127.0.0.1", False), ("10.1.2.3", False), ("172.31.255.255", False), ("192.168.0.1", False),
        ("169.254.169.254", False), ("100.64.0.1", False), ("100.127.255.255", False), ("0.0.0.0", False),
        ("0.255.255.255", False), ("224.0.0.251", False), ("239.255.255.250", False), ("255.255.255.255", False),
        ("240.0.0.1", False), ("192.0.0.8", False), ("192.0.2.1", False), ("198.18.0.1", False),
        ("::1", False), ("::", False), ("fc00::1", False), ("fdff::1", False), ("fe80::1", False),
        ("fe80::1%eth0", False), ("fec0::1", False), ("ff02::1", False), ("ff0e::1", False),
        ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("::127.0.0.1", False),
        ("64:ff9b::7f00:1", False), ("64:ff9b:1::1", False), ("2002:7f00:1::", False), ("2002:c0a8:1::", False),
        ("2001::1", False), ("2001:db8::1", False), ("100::1", False), ("not an address", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


# -- where a public fetch connects -----------------------------------------------------------------


async def test_a_public_https_fetch_goes_to_the_checked_address_with_the_real_name_for_tls() -> None:
    recorder = Recorder()
    fetcher, resolver = _fetcher(recorder, {"images.example.org": [PUBLIC]})
    assert await fetcher.fetch("https://Images.Example.org/pics/a.png?sig=1#top", max_bytes=1024) == PNG
    assert await fetcher.check("https://images.example.org/other.png") == (PUBLIC,)
    assert await fetcher.check("https://cdn.discordapp.com/a.png") == (), "trusted: no address check"
    (request,) = recorder.requests
    assert str(request.url) == f"https://{PUBLIC}/pics/a.png?sig=1"
    assert request.headers["host"] == "images.example.org"
    assert request.extensions["sni_hostname"] == "images.example.org"
    assert resolver.calls == ["images.example.org"] * 2
    await fetcher.aclose()


async def test_a_public_http_fetch_keeps_the_port_in_the_host_header_and_sends_no_sni() -> None:
    recorder = Recorder()
    fetcher, _ = _fetcher(recorder, {"images.example.org": [PUBLIC_V6]})
    await fetcher.fetch("http://images.example.org:8080/a.png", max_bytes=1024)
    (request,) = recorder.requests
    assert str(request.url) == f"http://[{PUBLIC_V6}]:8080/a.png"
    assert request.headers["host"] == "images.example.org:8080"
    assert "sni_hostname" not in request.extensions
    await fetcher.aclose()


async def test_a_changing_dns_answer_cannot_move_the_request() -> None:
    """DNS rebinding: the name is looked up once; the connection goes where the checked answer said."""

    class Rebinding(StaticResolver):
        async def __call__(self, host: str, port: int) -> Sequence[str]:
            self.calls.append(host)
            return [PUBLIC] if len(self.calls) == 1 else ["127.0.0.1"]

    recorder = Recorder()
    resolver = Rebinding({})
    fetcher = GuardedFetcher(transport=httpx.MockTransport(recorder), resolver=resolver)
    await fetcher.fetch("https://rebind.example.org/a.png", max_bytes=1024)
    assert resolver.calls == ["rebind.example.org"]
    assert [request.url.host for request in recorder.requests] == [PUBLIC]
    await fetcher.aclose()


async def test_when_one_checked_address_does_not_answer_the_next_is_tried() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == PUBLIC:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, content=PNG)

    recorder = Recorder(answer)
    fetcher, _ = _fetcher(recorder, {"two.example.org": [PUBLIC, PUBLIC_2]})
    assert await fetcher.fetch("https://two.example.org/a.png", max_bytes=1024) == PNG
    assert [request.url.host for request in recorder.requests] == [PUBLIC, PUBLIC_2]
    await fetcher.aclose()


async def test_redirects_are_not_followed() -> None:
    recorder = Recorder(lambda request: httpx.Response(302, headers={"Location": "http://169.254.169.254/"}))
    fetcher, _ = _fetcher(recorder, {"images.example.org": [PUBLIC]})
    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("https://images.example.org/a.png", max_bytes=1024)
    assert (failed.value.why, failed.value.status) == ("HTTP 302", 302)
    assert len(recorder.requests) == 1
    await fetcher.aclose()


async def test_no_credentials_are_ever_sent() -> None:
    recorder = Recorder()
    fetcher, _ = _fetcher(recorder, {"images.example.org": [PUBLIC]}, trusted=["http://127.0.0.1:9"])
    await fetcher.fetch("https://user:secret@images.example.org/a.png", max_bytes=1024)
    await fetcher.fetch("http://user:secret@127.0.0.1:9/a.png", max_bytes=1024)
    for request in recorder.requests:
        assert "authorization" not in request.headers
        assert "cookie" not in request.headers
        assert b"secret" not in request.url.raw_path and request.url.userinfo == b""
    await fetcher.aclose()


# -- trusted origins -------------------------------------------------------------------------------


async def test_trusted_origins_are_fetched_as_given_and_trust_is_per_origin() -> None:
    recorder = Recorder()
    fetcher, resolver = _fetcher(recorder, trusted=["http://127.0.0.1:9/api/v10"])
    await fetcher.fetch("http://127.0.0.1:9/attachments/a.png", max_bytes=1024)
    await fetcher.fetch("https://cdn.discordapp.com/attachments/1/2/a.png", max_bytes=1024)
    await fetcher.fetch("https://media.discordapp.net:443/external/x/a.png", max_bytes=1024)
    assert [str(request.url) for request in recorder.requests] == [
        "http://127.0.0.1:9/attachments/a.png",
        "https://cdn.discordapp.com/attachments/1/2/a.png",
        "https://media.discordapp.net/external/x/a.png",
    ]
    assert resolver.calls == []
    for url in ("http://127.0.0.1:10/a.png", "https://127.0.0.1:9/a.png", "http://127.0.0.2:9/a.png"):
        with pytest.raises(AddressRefused):
            await fetcher.fetch(url, max_bytes=1024)
    with pytest.raises(FetchFailed):  # plain http to Discord's CDN is not the trusted origin: it gets looked up
        await fetcher.fetch("http://cdn.discordapp.com/a.png", max_bytes=1024)
    assert resolver.calls == ["cdn.discordapp.com"]
    assert len(recorder.requests) == 3
    await fetcher.aclose()


def test_open_trusts_discords_media_and_the_two_configured_apis() -> None:
    fetcher = GuardedFetcher.open(discord_api_base="http://nirn:8080/api/v10",
                                  openrouter_base="https://openrouter.ai/api/v1")
    trusted = {str(origin) for origin in fetcher.trusted_origins}
    assert trusted == {
        "https://cdn.discordapp.com:443", "https://media.discordapp.net:443", "https://cdn.discord.com:443",
        "https://media.discord.net:443", "http://nirn:8080", "https://openrouter.ai:443",
    }
    assert origin_of("HTTPS://OpenRouter.ai/x") == origin_of("https://openrouter.ai:443/y")
    assert not fetcher.is_trusted("http://openrouter.ai/x") and not fetcher.is_trusted("http://nirn:8081/")


# -- bounds ----------------------------------------------------------------------------------------


async def test_a_declared_length_over_the_bound_is_refused_before_reading() -> None:
    recorder = Recorder(lambda request: httpx.Response(200, content=b"x" * 2048))
    fetcher, _ = _fetcher(recorder, trusted=["http://127.0.0.1:9"])
    with pytest.raises(ResponseTooLarge) as large:
        await fetcher.fetch("http://127.0.0.1:9/a.png", max_bytes=1024)
    assert large.value.size == 2048
    await fetcher.aclose()


async def test_a_stream_without_length_is_cut_once_past_the_bound() -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):
            sent += 1
            yield b"x" * 1024

    fetcher, _ = _fetcher(Recorder(lambda request: httpx.Response(200, content=endless())), {"a.example.org": [PUBLIC]})
    with pytest.raises(ResponseTooLarge) as large:
        await fetcher.fetch("https://a.example.org/a.png", max_bytes=4096)
    assert large.value.size is None and sent <= 6
    await fetcher.aclose()


@pytest.mark.parametrize(
    ("error", "why"),
    [(httpx.ReadTimeout("slow"), "it took too long"), (httpx.ConnectError("refused"), "the connection failed"),
     (httpx.RemoteProtocolError("bad"), "the connection failed")],
)
async def test_transport_failures_are_fetch_failures(error: httpx.HTTPError, why: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error

    fetcher, _ = _fetcher(Recorder(answer), trusted=["http://127.0.0.1:9"])
    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("http://127.0.0.1:9/a.png", max_bytes=1024)
    assert failed.value.why == why
    await fetcher.aclose()


async def test_the_time_limit_covers_the_look_up_too() -> None:
    class Hanging(StaticResolver):
        async def __call__(self, host: str, port: int) -> Sequence[str]:
            await asyncio.Event().wait()  # never answers
            return []

    fetcher = GuardedFetcher(transport=httpx.MockTransport(Recorder()), resolver=Hanging({}))
    with pytest.raises(FetchFailed, match="took too long"):
        await fetcher.fetch("https://slow-dns.example.org/a.png", max_bytes=1024, timeout_s=0.05)
    await fetcher.aclose()


# -- over real sockets, on 127.0.0.1 ---------------------------------------------------------------


async def test_a_trusted_stand_in_is_fetched_over_a_real_connection_and_its_neighbour_port_is_not() -> None:
    async with FakeOpenRouter() as trusted_server, FakeOpenRouter() as other_server:
        url = trusted_server.add_file("a.png", PNG)
        other = other_server.add_file("b.png", PNG)
        fetcher = GuardedFetcher.open(openrouter_base=trusted_server.base_url)
        try:
            assert await fetcher.fetch(url, max_bytes=1024) == PNG
            with pytest.raises(AddressRefused):
                await fetcher.fetch(other, max_bytes=1024)
            with pytest.raises(AddressRefused):
                await fetcher.fetch(other.replace("127.0.0.1", "2130706433"), max_bytes=1024)
            assert other_server.requests == []
            (request,) = trusted_server.requests
            assert request.header("authorization") is None
        finally:
            await fetcher.aclose()
        assert fetcher.closed


async def test_the_default_resolver_reads_numeric_hosts_without_dns() -> None:
    """No resolver hook: numeric forms are still refused (getaddrinfo with AI_NUMERICHOST does no look-up)."""
    fetcher = GuardedFetcher()
    try:
        for url in ("http://2130706433/", "http://0x7f.1/", "http://[::ffff:7f00:1]/", "http://localhost./"):
            with pytest.raises(AddressRefused):
                await fetcher.fetch(url, max_bytes=1024)
    finally:
        await fetcher.aclose()
