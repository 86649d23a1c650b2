"""Turning what a member asked for into the request the chosen model can honour, and saying what was not.

OpenRouter silently ignores parameters an endpoint does not support (a seed sent to gpt-image-2 is
dropped without a word), so the bot must decide from the catalog what will be honoured. The rule:
never drop an option silently. What the model cannot do is left out of the request and named in the
result ("seed: not supported by openai/gpt-image-2"); what would make the result meaningless is
refused before anything is spent (more images than the server allows). A seed is picked when the
member gave none and the model takes one, so every result shows the seed that reproduces it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from bot.catalog import IMAGES_RESOLUTIONS, ImageParams, ModelCatalog
from bot.errors import UserFacingError
from bot.messages import ui
from bot.messages.jobs import TOO_MANY_IMAGES_ASKED, TOO_MANY_IMAGES_ASKED_TITLE
from bot.requests import ImageRequest, Route
from bot.storage.guild_config import OperationConfig

__all__ = [
    "DEFAULT_RESOLUTION", "ENDPOINT_WAIT_S", "MAX_SEED", "NOTHING_ASKED", "Asked", "Plan", "TooManyImagesAsked",
    "next_resolution", "plan_for", "plan_request",
]

#: Seeds are picked from this range: every provider that takes a seed takes a 31-bit one.
MAX_SEED = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Asked:
    """The options a member gave (None: not given)."""

    count: int | None = None
    seed: int | None = None
    resolution: str | None = None
    quality: str | None = None


#: A request with no options given (a menu, a button).
NOTHING_ASKED = Asked()


@dataclass(frozen=True, slots=True)
class Plan:
    """The request to send, how many images each call may make, and what the result must say."""

    request: ImageRequest
    per_call: int
    notes: tuple[str, ...] = ()
    #: Whether to ask for partial images (the endpoint streams them).
    stream: bool = False


class TooManyImagesAsked(UserFacingError):
    """More images in one request than the server allows."""

    title = TOO_MANY_IMAGES_ASKED_TITLE

    def __init__(self, asked: int, allowed: int) -> None:
        super().__init__(TOO_MANY_IMAGES_ASKED.format(allowed, asked=asked))


#: Seconds a plan waits for a model's endpoint listing the first time it is needed (then it is cached).
ENDPOINT_WAIT_S = 0.5


async def plan_for(
    catalog: ModelCatalog, request: ImageRequest, asked: Asked, config: OperationConfig
) -> Plan:
    """`plan_request` with the route and parameters the catalog knows for the request's model.

    On the Images API the parameters are those of the endpoints the server's provider filter allows
    (`ModelCatalog.endpoint_params`: the smallest `n` among them, say, since OpenRouter may route to any
    of them): the listing's union would plan four images per call where one provider makes one. The
    endpoint listing is fetched once per model and time-to-live, waited for at most `ENDPOINT_WAIT_S`.
    """
    route = catalog.route_for(request.model, config.route)
    params = await catalog.endpoint_params(request.model, request.providers, route=route, wait_s=ENDPOINT_WAIT_S)
    return plan_request(request, asked, config=config, route=route, params=params)


def plan_request(
    request: ImageRequest, asked: Asked, *, config: OperationConfig, route: Route, params: ImageParams
) -> Plan:
    """The request on `route` with every option the model supports, and notes for those it does not."""
    count = asked.count or config.effective_default_count
    if count > config.effective_max_count:
        raise TooManyImagesAsked(count, config.effective_max_count)
    model = request.model
    notes: list[str] = []
    seed = asked.seed
    if params.known and not params.seed:
        if seed is not None:
            notes.append(ui.NOTE_SEED_NOT_SUPPORTED.format(model=model))
        seed = None
    elif seed is None and params.seed:
        seed = random.randint(0, MAX_SEED)  # shown on the result, so it can be reproduced
    resolution = _supported("resolution", asked.resolution, params.resolutions, params.known, model, notes)
    quality = _supported("quality", asked.quality, params.qualities, params.known, model, notes)
    per_call = max(1, params.max_count if route is Route.IMAGES else 1)
    if count > 1 and per_call < count:
        calls = -(-count // per_call)
        notes.append(ui.NOTE_CALLS.format(per_call, model=model, calls=calls))
    planned = replace(
        request, route=route, count=count, seed=seed, seed_given=seed is not None and seed == asked.seed,
        resolution=resolution, quality=quality,
    )
    stream = route is Route.IMAGES and params.streaming
    return Plan(request=planned, per_call=min(per_call, count), notes=tuple(notes), stream=stream)


def _supported(
    name: str, value: str | None, supported: tuple[str, ...], known: bool, model: str, notes: list[str]
) -> str | None:
    if value is None:
        return None
    if known and value not in supported:
        offered = ", ".join(supported)
        note = ui.NOTE_NOT_SUPPORTED_OFFERS if offered else ui.NOTE_NOT_SUPPORTED
        notes.append(note.format(option=name, value=value, model=model, offered=offered))
        return None
    return value


#: The tier a request without `resolution` gets (every route's default is about 1 megapixel).
DEFAULT_RESOLUTION = "1K"


def next_resolution(current: str | None, params: ImageParams) -> str | None:
    """The next resolution tier above `current` (None: the default, 1K) that the model offers; None if none.

    Tiers rank as the Images API's enum does (512 < 1K < 2K < 4K). For a model the catalogs do not know,
    the next tier of that enum is tried (the member is told it was asked for; the model may ignore it).
    """
    order = list(IMAGES_RESOLUTIONS)
    start = order.index(current) if current in order else order.index(DEFAULT_RESOLUTION)
    higher = order[start + 1 :]
    if params.known:
        higher = [tier for tier in higher if tier in params.resolutions]
    return higher[0] if higher else None
