"""A member's jobs: the `/jobs` list (`cogs.jobs`) and a result shown again by `/show` (`cogs.show`).

A job is "#{job_id}" in a list and "job #{job_id}" in a sentence, as everywhere else. Times are
Discord timestamps (`<t:...:R>`, which each client shows in its own language) or, where Discord does
not format (autocomplete choices), formatted for the locale by `bot.i18n.ago`.
"""

from __future__ import annotations

from bot.messages import Msg, Plural

__all__ = [
    "ASKED_BY",
    "CANCELLED_BY",
    "CANCELLED_BY_RESTART",
    "FAILED_BECAUSE",
    "JOBS_FOOTER",
    "JOBS_TITLE_OTHER",
    "JOBS_TITLE_OWN",
    "JUST_NOW",
    "NO_JOBS",
    "NO_PROMPT_RECORDED",
    "NO_RESULT",
    "ORIGINAL",
    "RESULT_DELETED",
    "RESULT_LINK",
    "SHOWN_AGAIN_BY",
    "STATUS_DONE",
    "STATUS_FAILED",
    "STATUS_INTERRUPTED",
    "STATUS_QUEUED",
    "STATUS_RUNNING",
]

# -- /jobs ----------------------------------------------------------------------------------------

JOBS_TITLE_OWN = Msg("Your recent jobs in this server")
#: `name`: the member's display name, escaped.
JOBS_TITLE_OTHER = Msg("{name}'s recent jobs in this server")
NO_JOBS = Msg("No jobs yet. Results of `/imagine`, `/edit` and `/describe` will be listed here.")
#: `count`: the jobs listed.
JOBS_FOOTER = Plural(
    "The last job, newest first. Costs in USD as OpenRouter reported them.",
    "The last {count} jobs, newest first. Costs in USD as OpenRouter reported them.",
)

STATUS_QUEUED = Msg("⏳ queued")
STATUS_RUNNING = Msg("⚙️ running")
STATUS_DONE = Msg("✅ done")
STATUS_FAILED = Msg("❌ failed")
#: `status`: `STATUS_FAILED`; `kind`: the error's machine name (`timeout`, `moderation`), as recorded.
FAILED_BECAUSE = Msg("{status} ({kind})")
STATUS_INTERRUPTED = Msg(
    "⚠️ interrupted: the bot stopped before it finished, so you were never answered; run it again"
)
#: `by`: the id of the member who cancelled it.
CANCELLED_BY = Msg("🚫 cancelled by <@{by}>")
CANCELLED_BY_RESTART = Msg("🚫 cancelled by a restart")
#: `link`: the result message's URL.
RESULT_LINK = Msg("[result]({link})")
RESULT_DELETED = Msg("result deleted")
NO_RESULT = Msg("no result")
NO_PROMPT_RECORDED = Msg("(no prompt recorded)")
#: When a job was made less than a minute ago (longer ago is said by Babel, "5 minutes ago").
JUST_NOW = Msg("just now")

# -- /show ----------------------------------------------------------------------------------------

#: A field name: who asked for the job, and when.
ASKED_BY = Msg("Asked by")
#: A field name: the link to the original result.
ORIGINAL = Msg("Original")
#: `name`: the display name of the member who showed it (a footer: never formatted by Discord).
SHOWN_AGAIN_BY = Msg("Shown again by {name}")
