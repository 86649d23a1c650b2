"""Turning what a member asked for into the request the chosen model can honour, and saying what was not.

OpenRouter silently ignores parameters an endpoint does not support (a seed sent to gpt-image-2 is
dropped without a word), so the bot must decide from the catalog what will be honoured. The rule:
never drop an option silently. What the model cannot do is left out of the request and named in the
result ("seed: not supported by openai/gpt-image-2"); what would make the result meaningless is
refused before anything is spent (more images than the server allows). A seed is picked when the
member gave none and the model takes one, so every result shows the seed that reproduces it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from bot.catalog import IMAGES_RESOLUTIONS, ImageParams, ModelCatalog
from bot.errors import UserFacingError, refusal
from bot.i18n import listing
from bot.messages import ui
from bot.messages.images import MODEL_TAKES_NO_IMAGE, references_trimmed
from bot.messages.jobs import TOO_MANY_IMAGES_ASKED, TOO_MANY_IMAGES_ASKED_TITLE
from bot.operations import ImageFormat
from bot.requests import ImageRequest, Route
from bot.storage.guild_config import OperationConfig

__all__ = [
    "DEFAULT_RESOLUTION", "ENDPOINT_WAIT_S", "MAX_SEED", "NOTHING_ASKED", "Asked", "Plan", "TooManyImagesAsked",
    "fit_references", "nearest_ratio", "next_resolution", "plan_for", "plan_request", "supported_ratio",
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
    #: The aspect ratios the model offers on its route (empty: not known, any may be sent); an edit that
    #: keeps its image's shape picks among them once the image is loaded (`supported_ratio`).
    aspect_ratios: tuple[str, ...] = ()
    #: How many reference images the model takes (0: none, it makes images from text only; None: not known).
    max_references: int | None = None


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
    aspect_ratio = _wanted_ratio(request)
    if aspect_ratio is not None:
        aspect_ratio, note = supported_ratio(aspect_ratio, _ratios(params), model)
        if note:
            notes.append(note)
    per_call = max(1, params.max_count if route is Route.IMAGES else 1)
    if count > 1 and per_call < count:
        calls = -(-count // per_call)
        notes.append(ui.NOTE_CALLS.format(per_call, model=model, calls=calls))
    planned = replace(
        request, route=route, count=count, seed=seed, seed_given=seed is not None and seed == asked.seed,
        resolution=resolution, quality=quality, aspect_ratio=aspect_ratio,
    )
    stream = route is Route.IMAGES and params.streaming
    offered = _ratios(params)
    return Plan(request=planned, per_call=min(per_call, count), notes=tuple(notes), stream=stream,
                aspect_ratios=offered, max_references=params.max_references if params.known else None)


_Reference = TypeVar("_Reference")


def fit_references(plan: Plan, given: Sequence[_Reference]) -> tuple[Sequence[_Reference], str | None]:
    """The images to send: refused before anything is spent when the model takes none, else at most its limit.

    A model that makes images from text alone ignores a picture sent to it and is paid all the same, so an
    edit with it is refused; more pictures than it takes are cut to the first ones, with a note for the result.
    """
    limit = plan.max_references
    if given and limit == 0:
        raise refusal(MODEL_TAKES_NO_IMAGE, model=plan.request.model)
    if limit is not None and len(given) > limit:
        return given[:limit], references_trimmed(limit, len(given), plan.request.model)
    return given, None


def _wanted_ratio(request: ImageRequest) -> str | None:
    """The ratio the member chose: their format's (a re-roll of a result that got a nearer ratio asks again)."""
    if request.image_format in set(ImageFormat):
        return ImageFormat(request.image_format).aspect_ratio
    return request.aspect_ratio


def _ratios(params: ImageParams) -> tuple[str, ...]:
    """The ratios a model is known to offer, without "auto" (empty: unknown, or every ratio goes)."""
    if not params.known:
        return ()
    return tuple(ratio for ratio in params.aspect_ratios if _log_ratio(ratio) is not None)


def supported_ratio(ratio: str, offered: Sequence[str], model: str) -> tuple[str, str | None]:
    """`ratio` if `model` offers it (`offered` empty: nothing known), else its nearest offered one and a note.

    Providers clamp a ratio they lack to one of theirs without a word, so the result would be labelled
    with a shape it does not have; the bot picks the nearest itself, labels the result with it and says so.
    """
    if not offered or ratio in offered:
        return ratio, None
    used = nearest_ratio(ratio, offered)
    if used is None:
        return ratio, None
    return used, ui.NOTE_SHAPE_NOT_SUPPORTED.format(asked=ratio, model=model, used=used)


def nearest_ratio(ratio: str, offered: Sequence[str]) -> str | None:
    """The ratio of `offered` closest to `ratio` on a log scale (2:1 and 1:2 are equally far from 1:1)."""
    wanted = _log_ratio(ratio)
    candidates = [(value, _log_ratio(value)) for value in offered]
    known = [(value, log) for value, log in candidates if log is not None]
    if wanted is None or not known:
        return None
    return min(known, key=lambda item: abs(item[1] - wanted))[0]


def _log_ratio(ratio: str) -> float | None:
    across, _, down = ratio.partition(":")
    try:
        return math.log(float(across) / float(down))
    except (ValueError, ZeroDivisionError):
        return None


def _supported(
    name: str, value: str | None, supported: tuple[str, ...], known: bool, model: str, notes: list[str]
) -> str | None:
    if value is None:
        return None
    if known and value not in supported:
        offered = listing(supported)
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
