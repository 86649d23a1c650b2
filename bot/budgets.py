"""Daily budgets: refusing a job before it reaches OpenRouter when it would run a server over its limit.

A server can cap its daily spend (USD), each member's daily spend (USD) and each member's daily
images; roles can carry their own daily quotas of images and USD (`/config quota`). A member's own
limit, for images and for USD separately, is the most generous quota among their roles (the @everyone
role included), or the server's member default when none of their roles has a quota for it; a role's
0 allows nothing and `unlimited` lifts the member limit (the server's own budget still applies).
Days are UTC days: budgets roll over at 00:00 UTC, read from an injectable clock so tests can
move time. Before a job the guard estimates its cost (catalog pricing, or what the model last cost)
and compares the day's ledger total *plus what running jobs have reserved* with the limit. The
in-memory reservation is what keeps concurrent jobs from all passing the check against the same
stale total: each admitted job holds its estimate until its real cost is in the ledger, so jointly
they overshoot by at most the error of one estimate. A job whose cost cannot be estimated at all
reserves nothing, so at most one such job per budget runs at a time.

Memory is enough while one process serves a guild (SQLite). When several processes share the database
(PostgreSQL: a re-shard, a rolling restart, shards on several machines) the reservations live in the
database instead (`bot.storage.reservations`): the ledger read, the check and the reservation are one
transaction under the guild's lock, so processes admitting at once cannot pass a limit together by
more than one estimate either. The rule itself (`_decide`) is the same for both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from bot.errors import UserFacingError
from bot.i18n import money
from bot.image_pricing import image_price
from bot.messages import budgets as texts
from bot.openrouter.types import ModelInfo
from bot.operations import Operation
from bot.storage.quotas import UNLIMITED, RoleQuota, RoleQuotaStore
from bot.storage.reservations import AdmissionState, BudgetReservations, Held
from bot.storage.usage import Budget, BudgetStore, Spend, UsageLedger

__all__ = [
    "Allowance",
    "BudgetExceeded",
    "BudgetGuard",
    "Clock",
    "Estimate",
    "MemberAllowance",
    "ImagePriceLookup",
    "ModelLookup",
    "Reservation",
    "catalog_image_price",
    "catalog_lookup",
    "estimate_from_pricing",
    "member_allowance",
    "member_role_ids",
    "next_reset",
    "role_text",
    "usd",
    "utc_now",
]

log = logging.getLogger(__name__)

#: Returns the current time, timezone-aware; injected so that tests can cross midnight without waiting.
Clock = Callable[[], datetime]
#: Finds a model's catalog entry without waiting (None when unknown or not loaded).
ModelLookup = Callable[[str], ModelInfo | None]
#: `(model, resolution, input images)`: one image's price on the Images API from its endpoints' price lines,
#: without waiting (None when not known: the listing carries no prices, only the endpoints do).
ImagePriceLookup = Callable[[str, str | None, int], float | None]

#: Output tokens one generated ~1 MP image counts for (Gemini's documented figure): the price basis of
#: models that bill image output per token.
IMAGE_OUTPUT_TOKENS = 1290
#: A generous length for a description, in tokens.
TEXT_OUTPUT_TOKENS = 600


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def next_reset(now: datetime) -> datetime:
    """The next 00:00 UTC after `now`, when daily budgets start again."""
    today = now.astimezone(UTC).date()
    return datetime.combine(today + timedelta(days=1), time(0, 0), tzinfo=UTC)


def utc_day(now: datetime) -> date:
    """The UTC day `now` falls in."""
    return now.astimezone(UTC).date()


def usd(amount: float) -> str:
    """An amount in USD as budgets show it, in the member's locale: cents for dollars, up to four decimals below."""
    return money(amount, precise=True)


def catalog_image_price(bot: object) -> ImagePriceLookup:
    """One image's price from the endpoints `bot.catalog` last fetched (planning fetches them before admission)."""

    def lookup(model_id: str, resolution: str | None, input_images: int) -> float | None:
        catalog: Any = getattr(bot, "catalog", None)
        if catalog is None:
            return None
        try:
            return image_price(catalog.known_endpoints(model_id), resolution=resolution, input_images=input_images)
        except Exception:  # an estimate must never stop a job
            log.debug("image price lookup failed for %s", model_id, exc_info=True)
            return None

    return lookup


def catalog_lookup(bot: object) -> ModelLookup:
    """A lookup in `bot.catalog` if the bot has one (it is optional), never waiting and never raising."""

    def lookup(model_id: str) -> ModelInfo | None:
        catalog: Any = getattr(bot, "catalog", None)
        if catalog is None:
            return None
        try:
            found = catalog.current.model(model_id)
        except Exception:  # an estimate must never stop a job
            log.debug("catalog lookup failed for %s", model_id, exc_info=True)
            return None
        return found if isinstance(found, ModelInfo) else None

    return lookup


def estimate_from_pricing(info: ModelInfo, operation: Operation, prompt: str, input_images: int) -> float | None:
    """A cost estimate in USD from catalog prices (strings, USD per token / image / request), or None.

    Text is priced per token (about four characters each); image output per token at
    `IMAGE_OUTPUT_TOKENS`, or, for image-only models that list no token price, at the per-image price;
    input images at the per-image price. Negative prices (OpenRouter's "varies") give no estimate.
    """
    if not info.pricing:
        return None
    prices: dict[str, float] = {}
    for key in ("prompt", "completion", "image", "request"):
        try:
            prices[key] = float(info.pricing.get(key) or 0)
        except ValueError:
            return None
        if prices[key] < 0:
            return None
    prompt_tokens = len(prompt) // 4 + 16
    output_tokens = IMAGE_OUTPUT_TOKENS if operation.needs_image_output else TEXT_OUTPUT_TOKENS
    cost = (
        prices["request"]
        + prices["prompt"] * prompt_tokens
        + prices["completion"] * output_tokens
        + prices["image"] * input_images
    )
    if operation.needs_image_output and prices["completion"] == 0:
        cost += prices["image"]
    return cost


_Amount = TypeVar("_Amount", int, float)


@dataclass(frozen=True, slots=True)
class Allowance(Generic[_Amount]):
    """A member's daily limit in one dimension and where it comes from.

    `limit` None means no limit. `role_id` is the role whose quota gives it, None for the server's member
    default (`/config budget`); so (None, role) is a role's `unlimited`, (None, None) no limit at all.
    """

    limit: _Amount | None = None
    role_id: int | None = None

    @property
    def from_role(self) -> bool:
        """The limit comes from a role's quota, not the member default."""
        return self.role_id is not None


@dataclass(frozen=True, slots=True)
class MemberAllowance:
    """A member's daily limits in a server: images and USD, each from a role's quota or the default."""

    images: Allowance[int]
    usd: Allowance[float]

    @property
    def is_limited(self) -> bool:
        """Some limit applies to the member's own use."""
        return self.images.limit is not None or self.usd.limit is not None


def member_role_ids(member: object) -> tuple[int, ...]:
    """A member's role ids as the interaction listed them (`member.roles` of the payload), cache or not."""
    roles = getattr(member, "_roles", None)
    return tuple(int(role) for role in roles) if roles is not None else ()


def member_allowance(
    budget: Budget, quotas: Mapping[int, RoleQuota], guild_id: int, role_ids: Iterable[int]
) -> MemberAllowance:
    """The member's limits: per dimension the most generous quota of their roles, else the server default.

    The @everyone role (whose id is the server's) is one of every member's roles. Among equally generous
    roles the oldest (lowest id) is named, so the answer does not depend on the order roles arrive in.
    """
    roles = sorted({*role_ids, guild_id})
    images: list[tuple[int, int | None]] = []
    spend: list[tuple[int, float | None]] = []
    for role_id in roles:
        quota = quotas.get(role_id)
        if quota is None:
            continue
        if quota.images_per_day is not None:
            images.append((role_id, None if quota.images_per_day is UNLIMITED else int(quota.images_per_day)))
        if quota.usd_per_day is not None:
            spend.append((role_id, None if quota.usd_per_day is UNLIMITED else float(quota.usd_per_day)))
    return MemberAllowance(
        images=_most_generous(images) or Allowance(budget.member_daily_images),
        usd=_most_generous(spend) or Allowance(budget.member_daily_usd),
    )


def _most_generous(candidates: list[tuple[int, _Amount | None]]) -> Allowance[_Amount] | None:
    """The highest limit among (role, limit) pairs, None (no limit) beating every number; None if no pairs."""
    best: Allowance[_Amount] | None = None
    for role_id, limit in candidates:  # in ascending role id: the first of equals wins
        if best is None:
            best = Allowance(limit, role_id)
        elif best.limit is not None and (limit is None or limit > best.limit):
            best = Allowance(limit, role_id)
    return best


def role_text(role_id: int, guild_id: int) -> str:
    """A role as refusals and `/usage` name it: its mention (Discord shows the name), or @everyone."""
    return "@everyone" if role_id == guild_id else f"<@&{role_id}>"


@dataclass(frozen=True, slots=True)
class Estimate:
    """What a job is expected to use; `known` is False when there was nothing to estimate from."""

    cost: float
    images: int
    known: bool


class BudgetExceeded(UserFacingError):
    """A job would run over a daily budget; the message says which, how much is used, and when it resets."""

    title = texts.BUDGET_REACHED_TITLE


@dataclass
class _Held:
    """What running jobs have reserved against one budget scope."""

    cost: float = 0.0
    images: int = 0
    unknown: int = 0

    @property
    def empty(self) -> bool:
        return self.cost <= 1e-12 and self.images == 0 and self.unknown == 0

    @classmethod
    def of(cls, held: Held) -> _Held:
        """What the database's reservations hold, in the in-memory form."""
        return cls(cost=held.cost, images=held.images, unknown=held.unknown)


_Scope = tuple[Any, ...]


@dataclass
class Reservation:
    """One admitted job's hold on its budgets, given back (once) when its cost is in the ledger."""

    guard: BudgetGuard | None = None
    scopes: tuple[_Scope, ...] = ()
    cost: float = 0.0
    images: int = 0
    unknown: bool = False
    #: The row in `budget_reservations` holding it (a shared database), None when held in memory.
    row_id: int | None = None
    _released: bool = field(default=False, repr=False)

    def hold(self, cost: float) -> None:
        """Hold `cost` instead of the estimate (a job whose real cost is known but not yet in the ledger)."""
        if self._released or self.guard is None:
            return
        self.guard._adjust(self, cost - self.cost)
        self.cost = cost

    def release(self) -> None:
        """Give the reservation back; safe to call twice."""
        if self._released or self.guard is None:
            return
        self._released = True
        self.guard._release(self)


class BudgetGuard:
    """Checks and reserves budgets before jobs; see the module docstring for the rule."""

    def __init__(
        self,
        budgets: BudgetStore,
        ledger: UsageLedger,
        model_info: ModelLookup | None = None,
        quotas: RoleQuotaStore | None = None,
        image_price: ImagePriceLookup | None = None,
    ) -> None:
        self._budgets = budgets
        #: The server's role quotas: the budget store's own unless given.
        self._quotas = quotas if quotas is not None else budgets.role_quotas
        self._ledger = ledger
        self._model_info = model_info or (lambda _model: None)
        self._image_price = image_price or (lambda _model, _resolution, _inputs: None)
        self._held: dict[_Scope, _Held] = {}
        #: One admission at a time: the ledger read and the reservation must not interleave.
        self._lock = asyncio.Lock()

    @property
    def _shared(self) -> BudgetReservations | None:
        return self._budgets.shared_reservations

    def held(self, guild_id: int | None, member_id: int | None = None) -> _Held:
        """What running jobs of this process reserve now against a server's (or a member's) budget.

        Held in memory, as on SQLite; on a shared database the reservations are rows of every process
        (`Store.reservations.held`) and this is empty.
        """
        scope: _Scope = ("guild", guild_id) if member_id is None else ("member", guild_id, member_id)
        return self._held.get(scope, _Held())

    async def estimate(
        self, operation: Operation, model: str, prompt: str, input_images: int, *, resolution: str | None = None
    ) -> Estimate:
        """Expected cost of one image (or description): the larger of the price estimate and the last real cost.

        Catalog prices alone misjudge models that bill images in ways the price list does not show, and a
        past cost alone misses price changes; taking the larger keeps the budget safe with either. The price
        is the chat catalog's, or for a model only the Images API lists, its endpoints' (`bot.image_pricing`);
        the last cost is per image, since one call may have made several.
        """
        images = 1 if operation.needs_image_output else 0
        info = self._model_info(model)
        priced = estimate_from_pricing(info, operation, prompt, input_images) if info is not None else None
        if priced is None and operation.needs_image_output:
            priced = self._image_price(model, resolution, input_images)
        last = await self._ledger.last_cost_per_image(model)
        candidates = [value for value in (priced, last) if value is not None]
        if not candidates:
            return Estimate(cost=0.0, images=images, known=False)
        return Estimate(cost=max(candidates), images=images, known=True)

    async def admit(
        self,
        *,
        guild_id: int | None,
        member_id: int,
        operation: Operation,
        model: str,
        prompt: str,
        input_images: int,
        now: datetime,
        role_ids: Sequence[int] = (),
        count: int = 1,
        resolution: str | None = None,
    ) -> Reservation:
        """Reserve this job's estimate against every limit of the server, or raise `BudgetExceeded`.

        `role_ids` are the member's roles in the server: their quotas replace the member default (see the
        module docstring), higher or lower.
        """
        if guild_id is None:
            return Reservation()
        budget = await self._budgets.get(guild_id)
        quotas = await self._quotas.get(guild_id)
        if budget.is_empty and not quotas:
            return Reservation()
        allowance = member_allowance(budget, quotas, guild_id, role_ids)
        estimate = await self.estimate(operation, model, prompt, input_images, resolution=resolution)
        if count > 1:  # each image is made (and billed) on its own: hold them all before anything is sent
            estimate = Estimate(cost=estimate.cost * count, images=estimate.images * count, known=estimate.known)
        async with self._lock:
            shared = self._shared
            if shared is not None:
                return await self._admit_shared(shared, budget, allowance, guild_id, member_id, estimate, model, now)
            scopes = await self._check(budget, allowance, guild_id, member_id, estimate, model, now)
            reservation = Reservation(
                guard=self, scopes=scopes, cost=estimate.cost, images=estimate.images, unknown=not estimate.known
            )
            for scope in scopes:
                held = self._held.setdefault(scope, _Held())
                held.cost += reservation.cost
                held.images += reservation.images
                held.unknown += int(reservation.unknown)
            return reservation

    async def _check(
        self,
        budget: Budget,
        allowance: MemberAllowance,
        guild_id: int,
        member_id: int,
        estimate: Estimate,
        model: str,
        now: datetime,
    ) -> tuple[_Scope, ...]:
        """The in-memory admission: today's ledger and this process's reservations."""
        today = utc_day(now)
        guild_used = Spend()
        if budget.guild_daily_usd is not None:
            guild_used = await self._ledger.spend(guild_id, since=today, until=today)
        member_used = Spend()
        if allowance.is_limited:
            member_used = await self._ledger.spend(guild_id, since=today, until=today, member_id=member_id)
        return _decide(
            budget, allowance, guild_id, member_id, estimate, model, now,
            AdmissionState(
                guild_spent=guild_used,
                member_spent=member_used,
                guild_held=_as_held(self._held.get(("guild", guild_id), _Held())),
                member_held=_as_held(self._held.get(("member", guild_id, member_id), _Held())),
            ),
        )

    async def _admit_shared(
        self,
        shared: BudgetReservations,
        budget: Budget,
        allowance: MemberAllowance,
        guild_id: int,
        member_id: int,
        estimate: Estimate,
        model: str,
        now: datetime,
    ) -> Reservation:
        """The admission on a shared database: decided and reserved in one transaction under the guild's lock."""
        await self.settle()  # this process's own releases first, so they count as given back
        decided: tuple[_Scope, ...] = ()

        def decide(state: AdmissionState) -> tuple[bool, bool]:
            nonlocal decided
            decided = _decide(budget, allowance, guild_id, member_id, estimate, model, now, state)
            return ("guild", guild_id) in decided, ("member", guild_id, member_id) in decided

        row_id = await shared.reserve(
            guild_id=guild_id, member_id=member_id, day=utc_day(now), now=now,
            cost=estimate.cost, images=estimate.images, unknown=not estimate.known, decide=decide,
        )
        if row_id is None:
            return Reservation()
        return Reservation(
            guard=self, scopes=decided, cost=estimate.cost, images=estimate.images,
            unknown=not estimate.known, row_id=row_id,
        )

    async def settle(self) -> None:
        """Wait until every release and adjustment of a database reservation made so far has landed."""
        shared = self._shared
        if shared is not None:
            await shared.settle()

    def _adjust(self, reservation: Reservation, delta: float) -> None:
        shared = self._shared
        if reservation.row_id is not None and shared is not None:
            shared.hold_soon(reservation.row_id, reservation.cost + delta)
            return
        for scope in reservation.scopes:
            held = self._held.setdefault(scope, _Held())
            held.cost = max(held.cost + delta, 0.0)

    def _release(self, reservation: Reservation) -> None:
        shared = self._shared
        if reservation.row_id is not None and shared is not None:
            shared.release_soon(reservation.row_id)
            return
        for scope in reservation.scopes:
            held = self._held.get(scope)
            if held is None:
                continue
            held.cost = max(held.cost - reservation.cost, 0.0)
            held.images = max(held.images - reservation.images, 0)
            held.unknown = max(held.unknown - int(reservation.unknown), 0)
            if held.empty:
                del self._held[scope]


def _as_held(held: _Held) -> Held:
    return Held(cost=held.cost, images=held.images, unknown=held.unknown)


def _decide(
    budget: Budget,
    allowance: MemberAllowance,
    guild_id: int,
    member_id: int,
    estimate: Estimate,
    model: str,
    now: datetime,
    state: AdmissionState,
) -> tuple[_Scope, ...]:
    """Refuse (`BudgetExceeded`) or name the limits the job counts against, from what is spent and held."""
    guild_scope: _Scope = ("guild", guild_id)
    member_scope: _Scope = ("member", guild_id, member_id)
    scopes: list[_Scope] = []
    if budget.guild_daily_usd is not None:
        _check_usd(
            texts.SERVER_BUDGET.text, budget.guild_daily_usd, state.guild_spent.cost,
            _Held.of(state.guild_held), estimate, model, now,
        )
        scopes.append(guild_scope)
    if allowance.is_limited:
        mine = state.member_spent
        held = _Held.of(state.member_held)
        if allowance.usd.limit is not None:
            label = texts.member_budget(_source(allowance.usd, guild_id))
            if allowance.usd.limit <= 0:
                raise BudgetExceeded(
                    texts.USD_ZERO.format(label=label, used=usd(mine.cost), hint=texts.QUOTA_HINT.text)
                )
            hint = (texts.QUOTA_HINT if allowance.usd.from_role else texts.MANAGE_HINT).text
            _check_usd(label, allowance.usd.limit, mine.cost, held, estimate, model, now, hint)
        if allowance.images.limit is not None:
            _check_images(allowance.images, guild_id, mine.images, held, estimate, now)
        scopes.append(member_scope)
    return tuple(scopes)


def _resets(now: datetime) -> str:
    return texts.resets(int(next_reset(now).timestamp()))


def _source(allowance: Allowance[Any], guild_id: int) -> str:
    """Where a limit comes from, as refusals say it: the role for a role's quota, nothing for the default."""
    return texts.role_source(role_text(allowance.role_id, guild_id)) if allowance.role_id is not None else ""


def _check_usd(
    label: str,
    limit: float,
    used: float,
    held: _Held,
    estimate: Estimate,
    model: str,
    now: datetime,
    hint: str | None = None,
) -> None:
    """Refuse when the limit is reached, the estimate would pass it, or an unpriced job already runs."""
    hint = hint or texts.MANAGE_HINT.text
    committed = used + held.cost
    spent = texts.spent_today(usd(used), usd(held.cost) if held.cost > 0 else None)
    if estimate.known and estimate.cost == 0:
        return  # a free model cannot run anyone over
    if committed >= limit - 1e-12:
        raise BudgetExceeded(
            texts.USD_USED_UP.format(label=label, limit=usd(limit), spent=spent, resets=_resets(now), hint=hint)
        )
    if estimate.known and committed + estimate.cost > limit + 1e-12:
        raise BudgetExceeded(texts.USD_WOULD_PASS.format(
            label=label, limit=usd(limit), spent=spent, cost=usd(estimate.cost), resets=_resets(now), hint=hint
        ))
    if not estimate.known and held.unknown > 0:
        raise BudgetExceeded(texts.usd_unknown_cost(model, label, usd(limit), spent, _resets(now)))


def _check_images(
    allowance: Allowance[int], guild_id: int, used: int, held: _Held, estimate: Estimate, now: datetime
) -> None:
    limit = allowance.limit
    if estimate.images == 0 or limit is None:
        return
    source = _source(allowance, guild_id)
    hint = (texts.QUOTA_HINT if allowance.from_role else texts.MANAGE_HINT).text
    if limit <= 0:
        raise BudgetExceeded(texts.IMAGES_ZERO.format(source=source, used=used, hint=hint))
    committed = used + held.images
    if committed + estimate.images > limit:
        raise BudgetExceeded(texts.images_reached(source, limit, used, held.images, _resets(now), hint))
