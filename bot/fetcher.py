"""The one way the bot fetches a URL it did not build itself: trusted origins, or public addresses only.

Every URL the bot downloads comes from someone else: an attachment URL Discord handed over, an image in
an embed (which anyone running a link preview or a webhook can set), a stored reference, or an image URL
in a model's answer. Any of them could point at the bot's own network (the cloud metadata service at
169.254.169.254, a database admin page on 10.0.0.5, a proxy on 127.0.0.1), and the bot would then post
what it fetched. `GuardedFetcher` is the single gate all of those go through:

* **Trusted origins** are fetched as given: Discord's own media hosts over https, the origin
  (scheme, host and port) of `DISCORD_API_BASE_URL` when set, and the origin of `OPENROUTER_BASE_URL`.
  Trust is by origin, not by host name, so trusting a stand-in on `http://127.0.0.1:8080` does not
  trust any other port on 127.0.0.1.
* **Anything else** must be http(s), and its host is resolved first (off the event loop). The fetch is
  refused unless *every* address is public (see `is_public_address`), and then goes to one of the
  addresses that were checked, never through a second look-up: the request is made to the IP address
  with the `Host` header set to the name and, for https, TLS told the real name (`sni_hostname`) so the
  server's certificate is still verified against it. A DNS answer that changes between the check and
  the connection (DNS rebinding) therefore cannot move the request.
* Numeric hosts in any notation a resolver accepts (`2130706433`, `127.1`, `0x7f.1`, `0177.0.0.1`,
  a trailing dot, bracketed IPv6) are read by `getaddrinfo` itself, so what is checked is what a
  connection would reach, never the string. `localhost` names are refused without a look-up.
* No redirects are followed (a 3xx is a failure), the download is streamed with a hard byte bound, and
  the whole fetch, look-up included, has a time limit.

The fetcher never carries a credential: its clients have no default headers, and the OpenRouter client
downloads result images through it rather than through its own authenticated client.

`bot.services.open_services` builds one for the process and hands it to both the attachment pipeline
and the OpenRouter client; `resolver` is a hook so tests can map names to addresses.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bot.messages import images as texts

__all__ = [
    "DISCORD_MEDIA_HOSTS",
    "AddressRefused",
    "FetchError",
    "FetchFailed",
    "GuardedFetcher",
    "Origin",
    "Resolver",
    "ResponseTooLarge",
    "StaticResolver",
    "is_public_address",
    "origin_of",
]

DISCORD_MEDIA_HOSTS = frozenset(
    {"cdn.discordapp.com", "media.discordapp.net", "cdn.discord.com", "media.discord.net"}
)
"""Discord's own attachment and media-proxy hosts: trusted over https on the default port."""

DEFAULT_TIMEOUT_S = 60.0

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""`(host, port) -> addresses`: how a host name becomes IP address strings (the default asks getaddrinfo)."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOCAL_NAMES = ("localhost",)
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal")

_V4_BLOCKED = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network", 0.0.0.0 included
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, the cloud metadata address
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, 255.255.255.255 included
    )
)
_V6_BLOCKED = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/8",  # unspecified, loopback, IPv4-compatible (deprecated) and the rest of the reserved block
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments: Teredo, ORCHID, ...
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_V4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")


# -- errors ---------------------------------------------------------------------------------------


class FetchError(Exception):
    """A URL could not be fetched; `why` is a short phrase for a member (`bot.messages.images.FETCH_*`)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class AddressRefused(FetchError):
    """The URL points somewhere the bot will not go (not http(s), not a valid address, or not public).

    Nothing was sent anywhere. `reason` is a stable key for logs: "scheme", "invalid" or "private".
    """

    def __init__(self, why: str, *, reason: str) -> None:
        super().__init__(why)
        self.reason = reason


class FetchFailed(FetchError):
    """The fetch was allowed but did not work: an HTTP status other than 200, a time-out, a dead host."""

    def __init__(self, why: str, *, status: int | None = None) -> None:
        super().__init__(why)
        self.status = status


class ResponseTooLarge(FetchError):
    """The body is over the caller's bound; `size` is what the server declared, None when cut mid-stream."""

    def __init__(self, size: int | None) -> None:
        super().__init__(texts.FETCH_TOO_LARGE.text)
        self.size = size


# -- addresses ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host and port: what trust is given to (as browsers scope it)."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def origin_of(url: str | httpx.URL) -> Origin | None:
    """The origin of an http(s) URL (default port filled in), or None for other schemes or a bad URL."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    scheme = parsed.scheme
    host = parsed.raw_host.decode("ascii").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return Origin(scheme, host, parsed.port or _DEFAULT_PORTS[scheme])


def is_public_address(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an IP address is on the public internet, so the bot may connect to it for anyone.

    Refused: loopback, private, link-local (169.254.0.0/16, the cloud metadata service), carrier-grade
    NAT (100.64.0.0/10), multicast, unspecified, reserved, documentation and benchmarking ranges,
    0.0.0.0/8 and broadcast; for IPv6 also ::1, ::, fc00::/7, fe80::/10, ff00::/8, and private IPv4
    addresses in IPv6 clothing (IPv4-mapped, IPv4-compatible, 6to4 and NAT64 forms are judged by the
    IPv4 address inside; Teredo is refused).
    """
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address.split("%", 1)[0])  # a zone id (fe80::1%eth0) is not the address
        except ValueError:
            return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            return is_public_address(embedded)
        if any(address in network for network in _V6_BLOCKED):
            return False
    elif any(address in network for network in _V4_BLOCKED):
        return False
    return address.is_global and not (
        address.is_multicast or address.is_loopback or address.is_link_local or address.is_unspecified
        or address.is_reserved or address.is_private
    )


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, NAT64 or 6to4 address reaches, if it is one of those."""
    if address in _V4_MAPPED or address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    return None


async def _getaddrinfo(host: str, port: int, *, numeric: bool = False) -> list[str]:
    """Resolve with the system resolver, off the event loop (asyncio runs it in the default executor)."""
    loop = asyncio.get_running_loop()
    flags = socket.AI_NUMERICHOST if numeric else 0
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=flags)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """The default `Resolver`: the operating system's getaddrinfo, off the event loop."""
    return await _getaddrinfo(host, port)


class StaticResolver:
    """A `Resolver` from a fixed table (tests, or pinning names): unknown names do not resolve.

    `calls` records every look-up, so a test can see a name was resolved exactly once.
    """

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self.table = {name.lower().rstrip("."): list(addresses) for name, addresses in table.items()}
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        addresses = self.table.get(host.lower().rstrip("."))
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return addresses


# -- the fetcher ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to fetch one URL: which client, which request URLs (one per checked address), which headers."""

    trusted: bool
    urls: tuple[httpx.URL, ...]
    headers: Mapping[str, str]
    extensions: Mapping[str, Any]


class GuardedFetcher:
    """Fetches URLs for the bot: trusted origins as given, anything else only at public addresses.

    Two pooled clients, neither with credentials and neither following redirects: one for trusted
    origins (Discord's CDN is hit often, its connections are worth keeping), and one for everything
    else that keeps no idle connections (a connection made for one checked name must not be reused
    for another name that happens to share its address) and ignores proxy settings from the
    environment (the connection must go to the address that was checked).
    """

    def __init__(
        self,
        *,
        trusted_origins: Iterable[str | Origin] = (),
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 30.0,
    ) -> None:
        """`transport` replaces the network for both clients (tests use `httpx.MockTransport`)."""
        origins = {Origin("https", host, 443) for host in DISCORD_MEDIA_HOSTS}
        for item in trusted_origins:
            origin = item if isinstance(item, Origin) else origin_of(item)
            if origin is not None:
                origins.add(origin)
        self.trusted_origins: frozenset[Origin] = frozenset(origins)
        #: How names become addresses; replace it to map names in tests.
        self.resolver: Resolver = resolver or system_resolver
        timeout = httpx.Timeout(connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s,
                                pool=connect_timeout_s)
        self._trusted_http = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
            follow_redirects=False,
            transport=transport,
        )
        self._public_http = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=0),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
        )

    @classmethod
    def open(
        cls,
        *,
        discord_api_base: str | None = None,
        openrouter_base: str | None = None,
        resolver: Resolver | None = None,
    ) -> GuardedFetcher:
        """The process's fetcher: Discord's media, plus the origins of the two configured APIs, trusted."""
        return cls(trusted_origins=[base for base in (discord_api_base, openrouter_base) if base],
                   resolver=resolver)

    async def aclose(self) -> None:
        """Close both clients' connections."""
        await self._trusted_http.aclose()
        await self._public_http.aclose()

    @property
    def closed(self) -> bool:
        """True once `aclose` ran."""
        return self._trusted_http.is_closed

    def is_trusted(self, url: str) -> bool:
        """Whether `url` is on a trusted origin (fetched without an address check)."""
        origin = origin_of(url)
        return origin is not None and origin in self.trusted_origins

    async def check(self, url: str) -> tuple[str, ...]:
        """The addresses `url` would be fetched from ("trusted" origins return ()), or `AddressRefused`.

        Raises:
            AddressRefused: Not http(s), not a valid URL, or a host with any non-public address.
            FetchFailed: The name does not resolve.
        """
        plan = await self._plan(url)
        return () if plan.trusted else tuple(_host_of(request_url) for request_url in plan.urls)

    async def fetch(self, url: str, *, max_bytes: int, timeout_s: float = DEFAULT_TIMEOUT_S) -> bytes:
        """GET `url` and return its body, at most `max_bytes`, within `timeout_s` (look-up included).

        Raises:
            AddressRefused: The URL may not be fetched; nothing was sent.
            ResponseTooLarge: The declared or streamed size went over `max_bytes`.
            FetchFailed: Not HTTP 200 (redirects included), a time-out, or a connection that failed.
        """
        try:
            async with asyncio.timeout(timeout_s):
                plan = await self._plan(url)
                return await self._download(plan, max_bytes)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise FetchFailed(texts.FETCH_TOO_SLOW.text) from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(texts.FETCH_CONNECTION_FAILED.text) from exc

    # -- internals ------------------------------------------------------------------------------

    async def _plan(self, url: str) -> _Plan:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise AddressRefused(texts.FETCH_INVALID.text, reason="invalid") from exc
        if parsed.scheme not in _DEFAULT_PORTS:
            raise AddressRefused(texts.FETCH_NOT_WEB.text, reason="scheme")
        host = parsed.raw_host.decode("ascii").lower()
        if not host:
            raise AddressRefused(texts.FETCH_INVALID.text, reason="invalid")
        origin = Origin(parsed.scheme, host, parsed.port or _DEFAULT_PORTS[parsed.scheme])
        clean = parsed.copy_with(userinfo=b"", fragment=None)  # no credentials from a URL, ever
        if origin in self.trusted_origins:
            return _Plan(trusted=True, urls=(clean,), headers={}, extensions={})

        addresses = await self._resolve(host, origin.port)
        if not all(is_public_address(address) for address in addresses):
            raise AddressRefused(texts.FETCH_PRIVATE.text, reason="private")
        headers = {"Host": clean.netloc.decode("ascii")}
        extensions: dict[str, Any] = {"sni_hostname": host.rstrip(".")} if parsed.scheme == "https" else {}
        urls = tuple(clean.copy_with(host=address) for address in addresses)
        return _Plan(trusted=False, urls=urls, headers=headers, extensions=extensions)

    async def _resolve(self, host: str, port: int) -> list[str]:
        """Every address `host` reaches: numeric forms read as getaddrinfo reads them, names via the resolver."""
        bare = host[:-1] if host.endswith(".") else host
        if not bare:
            raise AddressRefused(texts.FETCH_INVALID.text, reason="invalid")
        try:
            numeric = await _getaddrinfo(bare, port, numeric=True)
        except socket.gaierror:
            numeric = []
        if numeric:
            return [address.split("%", 1)[0] for address in numeric]
        if bare in _LOCAL_NAMES or bare.endswith(_LOCAL_SUFFIXES):
            raise AddressRefused(texts.FETCH_PRIVATE.text, reason="private")
        try:
            addresses = [str(address).split("%", 1)[0] for address in await self.resolver(host, port)]
        except (OSError, UnicodeError) as exc:
            raise FetchFailed(texts.FETCH_NOT_FOUND.text) from exc
        if not addresses:
            raise FetchFailed(texts.FETCH_NOT_FOUND.text)
        return addresses

    async def _download(self, plan: _Plan, max_bytes: int) -> bytes:
        client = self._trusted_http if plan.trusted else self._public_http
        last = len(plan.urls) - 1
        for index, url in enumerate(plan.urls):
            try:
                return await self._stream(client, url, plan, max_bytes)
            except httpx.ConnectError:
                if index == last:  # every checked address failed to connect
                    raise
        raise AssertionError("unreachable: a plan has at least one URL")  # pragma: no cover

    @staticmethod
    async def _stream(client: httpx.AsyncClient, url: httpx.URL, plan: _Plan, max_bytes: int) -> bytes:
        async with client.stream("GET", url, headers=dict(plan.headers), extensions=dict(plan.extensions)) as response:
            if response.status_code != 200:
                status = response.status_code
                raise FetchFailed(texts.FETCH_HTTP_STATUS.format(status=status), status=status)
            length = _int_or_none(response.headers.get("Content-Length"))
            if length is not None and length > max_bytes:
                raise ResponseTooLarge(length)
            chunks: list[bytes] = []
            received = 0
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise ResponseTooLarge(None)
                chunks.append(chunk)
        return b"".join(chunks)


def _host_of(url: httpx.URL) -> str:
    return url.raw_host.decode("ascii")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
