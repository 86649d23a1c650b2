"""Daily budgets and role quotas (`bot.budgets`): which limit a job would pass, how much is used, when it resets.

Amounts come formatted (`bot.budgets.usd`: "$0.50"), roles as `bot.budgets.role_text` names them, and
`resets` is `resets(timestamp)`. A limit's `label` is `SERVER_BUDGET` or `member_budget(source)`, and
`source` is `role_source(role)` for a role's quota or "" for the server's member default.
"""

from __future__ import annotations

from bot.messages import Msg, Plural, lower_first

__all__ = [
    "BUDGET_REACHED_TITLE",
    "HELD_BY_RUNNING",
    "IMAGES_ON_THE_WAY",
    "IMAGES_REACHED",
    "IMAGES_ZERO",
    "MANAGE_HINT",
    "MEMBER_BUDGET",
    "QUOTA_HINT",
    "RESETS",
    "ROLE_SOURCE",
    "SERVER_BUDGET",
    "SPENT_TODAY",
    "USD_UNKNOWN_COST",
    "USD_USED_UP",
    "USD_WOULD_PASS",
    "USD_ZERO",
    "images_reached",
    "member_budget",
    "resets",
    "role_source",
    "spent_today",
    "usd_unknown_cost",
]

BUDGET_REACHED_TITLE = "Budget reached"

#: Who can change the limit that refused the job: the server's member default, or a role's quota.
MANAGE_HINT = Msg("A member with Manage Server can change the limits with `/config budget`.")
QUOTA_HINT = Msg("A member with Manage Server can change role quotas with `/config quota`.")

SERVER_BUDGET = Msg("This server's daily budget")
MEMBER_BUDGET = Msg("Your daily budget in this server{source}")
ROLE_SOURCE = Msg(" (from the role {role})")


def member_budget(source: str) -> str:
    """The member's own USD limit, as a refusal names it."""
    return MEMBER_BUDGET.format(source=source)


def role_source(role: str) -> str:
    """Where a member's limit comes from, when a role's quota sets it."""
    return ROLE_SOURCE.format(role=role)


#: `reset`: the next reset as a Unix timestamp (Discord shows it relative).
RESETS = Msg("It resets at 00:00 UTC (<t:{reset}:R>).")


def resets(reset: int) -> str:
    """When the day's limits reset."""
    return RESETS.format(reset=reset)


SPENT_TODAY = Msg("{used} spent today")
HELD_BY_RUNNING = Msg(" (plus {amount} held by jobs running now)")


def spent_today(used: str, held: str | None) -> str:
    """What the day's ledger holds, and what running jobs hold on top of it (None: nothing)."""
    spent = SPENT_TODAY.format(used=used)
    return spent + HELD_BY_RUNNING.format(amount=held) if held else spent


# -- USD ------------------------------------------------------------------------------------------

#: A role's quota of $0 (`used`: what the member spent today anyway).
USD_ZERO = (
    Msg("{label} is $0: you may not spend anything here, so this command is not available to "
    "you ({used} spent today). {hint}")
)
#: `spent`: `spent_today(...)`; `hint`: `MANAGE_HINT` or `QUOTA_HINT`.
USD_USED_UP = Msg("{label} of {limit} is used up: {spent}. {resets} {hint}")
USD_WOULD_PASS = (
    Msg("{label} is {limit} and {spent}; this job would cost about {cost}, which would go over it. {resets} {hint}")
)
#: `label` is lower-cased here, in the middle of the sentence.
USD_UNKNOWN_COST = (
    Msg("The cost of `{model}` is not known yet, so only one such job at a time counts against {label} "
    "({limit}; {spent}). Try again when the running one finishes. {resets}")
)


def usd_unknown_cost(model: str, label: str, limit: str, spent: str, resets: str) -> str:
    """A second job of an unpriced model while the first still runs."""
    return USD_UNKNOWN_COST.format(model=model, label=lower_first(label), limit=limit, spent=spent, resets=resets)


# -- images ---------------------------------------------------------------------------------------

IMAGES_ZERO = (
    Msg("Your daily limit in this server{source} is 0 images: you may not make images here "
    "(you made {used} today). {hint}")
)
#: `count`: the limit; `running`: `IMAGES_ON_THE_WAY` when running jobs hold images, else "".
IMAGES_REACHED = Plural(
    "Your daily limit in this server{source} is {count} image, and you made {used} today{running}. "
    "{resets} {hint}",
    "Your daily limit in this server{source} is {count} images, and you made {used} today{running}. "
    "{resets} {hint}",
)
IMAGES_ON_THE_WAY = Msg(" and {held} on the way")


def images_reached(source: str, limit: int, used: int, held: int, resets: str, hint: str) -> str:
    """The member's daily images are used up, counting those running jobs are making."""
    running = IMAGES_ON_THE_WAY.format(held=held) if held else ""
    return IMAGES_REACHED.format(limit, source=source, used=used, running=running, resets=resets, hint=hint)
