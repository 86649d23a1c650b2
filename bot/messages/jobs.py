"""A job's refusals at admission, its progress lines, how it ends when stopped, and Cancel's answers.

Admission refuses one at a time, a full queue, a cooldown, too many images.

A job is named "Job #{job_id}" everywhere, as `/jobs` shows it.
"""

from __future__ import annotations

from bot.messages import Msg, Plural, Text

__all__ = [
    "CANCELLED_BY_SHUTDOWN",
    "CANCELLED_TITLE",
    "CANCEL_SUMMARY",
    "CANCEL_SUMMARY_WAITING",
    "COST_ALREADY_ANSWERED",
    "COST_SO_FAR_PLUS_STOPPED",
    "COST_UNKNOWN_IN_FLIGHT",
    "JOB_TOO_SLOW",
    "NOTHING_CHARGED",
    "QUEUED",
    "SHUTTING_DOWN",
    "UPSTREAM_RETRYING",
    "WORKING",
    "cancel_summary",
    "ALREADY_CANCELLED",
    "ALREADY_CANCELLED_ON_RECORD",
    "ALREADY_ENDED_FAILED",
    "ALREADY_FINISHED",
    "ALREADY_FINISHED_LINKED",
    "ALREADY_STOPPED",
    "BEING_POSTED",
    "CANCELLED_RUNNING",
    "CANCELLED_WAITING",
    "CANCEL_MISSING",
    "CANCEL_NOT_ALLOWED",
    "JOB_GONE",
    "MEMBER_BUSY",
    "MEMBER_BUSY_TITLE",
    "NOT_HERE",
    "ON_COOLDOWN",
    "QUEUE_FULL",
    "TOO_MANY_IMAGES_ASKED",
    "TOO_MANY_IMAGES_ASKED_TITLE",
    "already_finished",
    "member_busy",
]

# -- admission ------------------------------------------------------------------------------------

MEMBER_BUSY_TITLE = "One at a time"
#: `count`: the jobs a member may have at once.
MEMBER_BUSY = Plural(
    "You already have a job running. Wait for it to finish, then try again.",
    "You already have {count} jobs running or queued. Wait for one to finish, then try again.",
)


def member_busy(limit: int) -> str:
    """The member already has `limit` jobs running or waiting."""
    return MEMBER_BUSY.format(limit)


#: `ahead`: the jobs waiting.
QUEUE_FULL = Text("The bot is very busy", "{ahead} jobs are already waiting. Try again in a few minutes.")
#: `remaining`: whole seconds left; `cooldown`: the server's cooldown in seconds.
ON_COOLDOWN = Text(
    "Slow down",
    "You can use `/{command}` again in {remaining} s: this server allows it once every {cooldown} s per member.",
)
TOO_MANY_IMAGES_ASKED_TITLE = "Too many images"
#: `count`: the images allowed per request; `asked`: how many the member asked for.
TOO_MANY_IMAGES_ASKED = Plural(
    "This server allows at most {count} image per request, and you asked for {asked}. Ask for "
    "{count}. A member with Manage Server can change it with `/config count`.",
    "This server allows at most {count} images per request, and you asked for {asked}. Ask for "
    "{count} or fewer. A member with Manage Server can change it with `/config count`.",
)

# -- the Cancel button (`cogs.cancel`) ------------------------------------------------------------

#: `requester`: the id of the member who asked for the job.
CANCEL_NOT_ALLOWED = Text(
    "Not your job",
    "Only <@{requester}>, who asked for this job, or a member with the Manage Messages permission "
    "can cancel it.",
)
CANCEL_MISSING = Text("Job not on record", "Job #{job_id} is no longer on record, so there is nothing to cancel.")

#: `cost`: what the cancellation cost, as a sentence of its own ("Nothing was charged").
CANCELLED_WAITING = Text("Cancelled", "Job #{job_id} is cancelled. It left the queue before it started. {cost}.")
CANCELLED_RUNNING = Text(CANCELLED_WAITING.title, "Job #{job_id} is cancelled. Its request was stopped. {cost}.")
#: `by`: the id of the member who cancelled it.
ALREADY_CANCELLED = Text("Already cancelled", "Job #{job_id} was already cancelled by <@{by}>. {cost}.")
ALREADY_CANCELLED_ON_RECORD = Text(ALREADY_CANCELLED.title, "Job #{job_id} was already cancelled by <@{by}>.")
BEING_POSTED = Text(
    "Already finished",
    "Job #{job_id} had already finished and its result is being posted, so there was nothing to cancel.",
)
ALREADY_FINISHED = Text(BEING_POSTED.title, "Job #{job_id} had already finished, so there was nothing to cancel.")
#: `link`: the result message's URL.
ALREADY_FINISHED_LINKED = Text(
    BEING_POSTED.title,
    "Job #{job_id} had already finished, so there was nothing to cancel. Its result is [here]({link}).",
)


def already_finished(job_id: int, link: str | None) -> tuple[str, str]:
    """A click on a finished job, linking its result when it is known."""
    if link:
        return ALREADY_FINISHED_LINKED.pair(job_id=job_id, link=link)
    return ALREADY_FINISHED.pair(job_id=job_id)


ALREADY_ENDED_FAILED = Text(
    BEING_POSTED.title, "Job #{job_id} had already ended (it failed), so there was nothing to cancel."
)
ALREADY_STOPPED = Text("Already stopped", "Job #{job_id} was already stopped by a restart of the bot.")
JOB_GONE = Text(
    "Job gone",
    "Job #{job_id} is gone: the bot restarted before it finished, so it was stopped then and no result "
    "will come. There is nothing left to cancel; run the command again if you still want it.",
)
NOT_HERE = Text(
    "Not here",
    "Job #{job_id} is not running in this bot process, so it can't be cancelled from here. "
    "If the bot just restarted, try again in a minute.",
)


# -- a job's own progress and end (`bot.jobs.service`) --------------------------------------------

#: The progress line of a job still running after a moment.
WORKING = Msg("Working on it…")
#: `position`: the job's place in the line (1 is next).
QUEUED = Msg("Queued: position {position}. Your job starts when the ones ahead of it finish.")
#: `delay`: whole seconds until the next attempt; `attempt`/`attempts`: which try of how many.
UPSTREAM_RETRYING = Msg("Upstream busy, retrying in {delay} s (attempt {attempt} of {attempts})…")
JOB_TOO_SLOW = Text(
    "Took too long",
    "The job was still running after almost 15 minutes, the longest Discord lets a bot answer. "
    "It was stopped; try again, perhaps when the bot is less busy or with a faster model.",
)
SHUTTING_DOWN = Text("Restarting", "The bot is restarting right now. Try again in a minute.")
CANCELLED_BY_SHUTDOWN = Text(
    "Cancelled by a restart",
    "The bot restarted before your job finished, so it was stopped. Try again in a minute.",
)

# What a cancellation cost, a phrase that ends the Cancel summary (`cost`: formatted, "$0.0039").
NOTHING_CHARGED = Msg("nothing was charged")
COST_SO_FAR_PLUS_STOPPED = (
    Msg("cost {cost} so far, plus whatever OpenRouter bills for the request that was stopped "
    "(the bot can't see that charge)")
)
COST_ALREADY_ANSWERED = Msg("cost {cost} (the model had already answered)")
COST_UNKNOWN_IN_FLIGHT = (
    Msg("cost unknown: the request had already reached OpenRouter, which may still bill it, "
    "and the bot can't see that charge")
)
#: The line that replaces a cancelled job's message (`by`: the member's id; `cost`: one of the phrases above).
CANCEL_SUMMARY = Msg("🚫 Cancelled by <@{by}> · {cost}.")
CANCEL_SUMMARY_WAITING = Msg("🚫 Cancelled by <@{by}> while it waited in the queue · {cost}.")
#: The title of the private notice when the cancelled job's message could not be edited.
CANCELLED_TITLE = CANCELLED_WAITING.title


def cancel_summary(by: int | None, cost: str, *, was_waiting: bool) -> str:
    """The line that replaces a cancelled job's progress message."""
    return (CANCEL_SUMMARY_WAITING if was_waiting else CANCEL_SUMMARY).format(by=by, cost=cost)
