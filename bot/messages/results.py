"""Refusals about finished jobs and their results: `/show`, `/jobs`, `/describe` and the result buttons."""

from __future__ import annotations

from bot.messages import DEFAULT_TITLE, Msg, Text

__all__ = [
    "ANSWER_NOT_FOUND",
    "ANSWER_NOT_FOUND_LINKED",
    "ANSWER_PARTIAL",
    "ANSWER_UNREADABLE",
    "ANSWER_GONE",
    "DELETE_NOT_ALLOWED",
    "DESCRIBE_UNAVAILABLE",
    "EMPTY_ANSWER",
    "EMPTY_BUTTON_PROMPT",
    "JOB_FAILED",
    "JOB_INTERRUPTED",
    "JOB_MISSING",
    "JOB_NOT_FOUND",
    "JOB_RUNNING",
    "JOB_WAITING",
    "NOTHING_TO_REROLL",
    "NOT_FINISHED_TITLE",
    "NOT_YOUR_JOB",
    "NO_PROMPT",
    "OTHER_MEMBERS_JOBS",
    "RESULT_DELETED",
    "RESULT_GONE",
    "TOO_LARGE_TO_DOWNLOAD",
    "TOO_LARGE_TO_POST",
    "WHICH_JOB",
    "answer_not_found",
]

# -- the result buttons (`cogs.result_buttons`) ---------------------------------------------------

JOB_MISSING = Text(
    "Result not on record",
    "This result (job #{job_id}) is no longer on record, so its buttons can't be used. "
    "Run the command again to make a new one.",
)
DELETE_NOT_ALLOWED = Text(
    "Not your result",
    "Only the member who asked for this result, or someone with the Manage Messages permission, can delete it.",
)
NOTHING_TO_REROLL = Text("Nothing to re-roll", "Re-roll works on image results only.")
NO_PROMPT = Text("No prompt", "This result's prompt was not recorded, so it can't be re-rolled.")
EMPTY_BUTTON_PROMPT = Text(DEFAULT_TITLE, "The prompt was empty. Press Edit again and say what should change.")
DESCRIBE_UNAVAILABLE = Text("Not available", "Describing images is not available on this bot.")

# -- /describe and /jobs --------------------------------------------------------------------------

EMPTY_ANSWER = Text(
    "No answer", "`{model}` returned an empty answer. Try again, or ask a more specific question with `/describe`."
)
OTHER_MEMBERS_JOBS = Text(
    "Missing permission",
    "Looking at another member's jobs needs the Manage Server permission. Leave out `member` to see your own.",
)

# -- /show ----------------------------------------------------------------------------------------

WHICH_JOB = Text(
    "Which job?", "Give the job's number as `/jobs` shows it (like `#12`), or pick a job from the list."
)
JOB_NOT_FOUND = Text(
    "No such job", "There is no job #{job_id} in this server. Pick one from the list, or see your jobs with `/jobs`."
)
NOT_YOUR_JOB = Text(
    "Not your job",
    "Job #{job_id} was asked for by another member. You can show your own jobs (see `/jobs`); "
    "showing other members' jobs needs the Manage Server permission.",
)

NOT_FINISHED_TITLE = "No result to show"
JOB_WAITING = Msg("Job #{job_id} is still waiting in line; its result will appear where it was asked for.")
JOB_RUNNING = Msg("Job #{job_id} is still running; its result will appear where it was asked for.")
JOB_INTERRUPTED = (
    Msg("Job #{job_id} was interrupted (the bot stopped before it finished), so it has no result to show.")
)
JOB_FAILED = Msg("Job #{job_id} failed, so it has no result to show. Run the command again to try once more.")

RESULT_DELETED = Text(
    "Result gone",
    "The result of job #{job_id} can't be shown again: its message was deleted. Run the command again to make "
    "a new one.",
)
RESULT_GONE = Text(
    RESULT_DELETED.title,
    "The result of job #{job_id} can't be shown again: its message was deleted or Discord no longer serves its "
    "images. Run the command again to make a new one.",
)
TOO_LARGE_TO_POST = Text(
    "Too large",
    "An image of job #{job_id} is larger than this server's upload limit now, so it can't be "
    "posted again. Its original message still has it.",
)
TOO_LARGE_TO_DOWNLOAD = Text(
    TOO_LARGE_TO_POST.title,
    "An image of job #{job_id} is larger than I can download again, so it can't be shown "
    "again here. Its original message still has it.",
)

#: `why`: one of the `ANSWER_*` reasons below.
ANSWER_NOT_FOUND = Text("Answer not found", "The answer of job #{job_id} can't be shown again: {why}.")
#: `link`: the original answer's URL.
ANSWER_NOT_FOUND_LINKED = Text(
    ANSWER_NOT_FOUND.title, "The answer of job #{job_id} can't be shown again: {why}. The original is [here]({link})."
)
ANSWER_UNREADABLE = Msg("its message was deleted or can't be read any more")
ANSWER_GONE = Msg("its message no longer holds it")
ANSWER_PARTIAL = Msg("it was too long for one message, and only its first part is on record")


def answer_not_found(job_id: int, why: str, link: str | None) -> str:
    """A describe answer that is not (wholly) on its stored message, linking the original when known."""
    if link:
        return ANSWER_NOT_FOUND_LINKED.format(job_id=job_id, why=why, link=link)
    return ANSWER_NOT_FOUND.format(job_id=job_id, why=why)
