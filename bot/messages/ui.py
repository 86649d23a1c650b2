"""Labels a member sees on the bot's own controls and results: buttons, forms, result embeds, progress.

Field names and footers of the result embeds (`bot.rendering`, `cogs.describe`, `cogs.edit`), the
buttons under results and progress messages (`cogs.result_buttons`, `cogs.cancel`), the prompt form
(`cogs._prompt_form`), the notes a job adds to its result (`bot.jobs.planning`, `bot.jobs.image_job`),
and how a cost or a duration reads. Numbers and amounts come in formatted for the locale
(`bot.i18n.decimal`, `bot.i18n.money`).
"""

from __future__ import annotations

from bot.messages import Msg, Plural

__all__ = [
    "CANCEL_BUTTON",
    "COST_FREE",
    "COST_NOT_REPORTED",
    "COST_TINY",
    "DELETE_BUTTON",
    "DESCRIBE_BUTTON",
    "DESCRIBE_TITLE",
    "DROPPED_IMAGES",
    "EDIT_BUTTON",
    "EDIT_IMAGE_FORM_TITLE",
    "EDIT_RESULT_FORM_TITLE",
    "EDIT_TITLE",
    "FIELD_COST",
    "FIELD_FORMAT",
    "FIELD_FROM",
    "FIELD_MODEL",
    "FIELD_MODEL_SAID",
    "FIELD_NOTE",
    "FIELD_QUESTION",
    "FIELD_SEED",
    "FIELD_SOURCES",
    "FIELD_TIME",
    "FIT_FIRST_FRAME_NOTE",
    "FIT_JPEG",
    "FIT_LOSSLESS",
    "FIT_NOTE",
    "FIT_SCALED",
    "FIT_WEBP",
    "IMAGINE_TITLE",
    "JOB_LINK",
    "JOB_REFERENCE",
    "KEPT_SHAPE",
    "NOTE_CALLS",
    "NOTE_NOT_SUPPORTED",
    "NOTE_NOT_SUPPORTED_OFFERS",
    "NOTE_SEED_NOT_SUPPORTED",
    "NOTE_SHAPE_NOT_SUPPORTED",
    "PART_OF",
    "PREVIEW",
    "PROMPT_LABEL",
    "PROMPT_PLACEHOLDER",
    "REQUESTED_BY",
    "REROLL_BUTTON",
    "REROLL_TITLE",
    "SECONDS",
    "SHORTFALL",
    "USED_FIRST_JOB_IMAGES",
    "USED_FIRST_MESSAGE_IMAGES",
]

# -- buttons --------------------------------------------------------------------------------------

REROLL_BUTTON = Msg("Re-roll")
EDIT_BUTTON = Msg("Edit")
DESCRIBE_BUTTON = Msg("Describe")
DELETE_BUTTON = Msg("Delete")
CANCEL_BUTTON = Msg("Cancel")

# -- the prompt form ------------------------------------------------------------------------------

#: The form opened by the "Edit image" message menu (at most 45 characters).
EDIT_IMAGE_FORM_TITLE = Msg("Edit image")
#: The form opened by the Edit button under a result (at most 45 characters).
EDIT_RESULT_FORM_TITLE = Msg("Edit this image")
#: The label of the form's text box (at most 45 characters).
PROMPT_LABEL = Msg("What should change?")
#: The hint in the empty text box (at most 100 characters).
PROMPT_PLACEHOLDER = Msg("e.g. make it a watercolour painting, add a red scarf")

# -- results --------------------------------------------------------------------------------------

#: The titles of results, by what made them.
IMAGINE_TITLE = Msg("Imagine")
EDIT_TITLE = Msg("Edit")
REROLL_TITLE = Msg("Re-roll")
DESCRIBE_TITLE = Msg("Describe")

#: Field names of a result embed (at most 256 characters).
FIELD_SEED = Msg("Seed")
FIELD_MODEL = Msg("Model")
FIELD_FORMAT = Msg("Format")
FIELD_COST = Msg("Cost")
FIELD_TIME = Msg("Time")
FIELD_MODEL_SAID = Msg("The model said")
FIELD_NOTE = Msg("Note")
FIELD_QUESTION = Msg("Question")
#: The job whose result a button used.
FIELD_FROM = Msg("From")
#: `count`: how many source images an edit used.
FIELD_SOURCES = Plural("Source image", "Source images")

#: `seconds`: a duration, formatted for the locale ("12.3").
SECONDS = Msg("{seconds} s")
#: `name`: the member's display name (a footer: never formatted by Discord).
REQUESTED_BY = Msg("Requested by {name}")
#: A long answer spread over several embeds: `number` of `total`.
PART_OF = Msg("Part {number} of {total}")
#: `link`: the result message's URL.
JOB_LINK = Msg("[job #{job_id}]({link})")
JOB_REFERENCE = Msg("job #{job_id}")

#: `count`: images the model's answer listed that were not posted.
DROPPED_IMAGES = Plural(
    "The model's answer listed {count} more image that I left out (over the limit per answer, or at an "
    "address I don't fetch from).",
    "The model's answer listed {count} more images that I left out (over the limit per answer, or at an "
    "address I don't fetch from).",
)
#: `ratio`: the aspect ratio an edit kept from its first image ("4:3").
KEPT_SHAPE = Msg("Kept the image's shape ({ratio})")
#: `made` of `count` asked for.
SHORTFALL = Plural(
    "{made} of the {count} image asked for could be made; the other calls failed.",
    "{made} of the {count} images asked for could be made; the other calls failed.",
)
#: `limit`: the server's max references; `count`: the images the message (or job) had.
USED_FIRST_MESSAGE_IMAGES = Msg("Used the first {limit} of the message's {count} images (this server's limit).")
USED_FIRST_JOB_IMAGES = Msg("Used the first {limit} of the job's {count} images (this server's limit now).")

#: Notes of a job's plan (`bot.jobs.planning`); `model` is the model id.
NOTE_SEED_NOT_SUPPORTED = Msg("seed: not supported by {model}, so the result can't be reproduced exactly")
#: `option`: resolution or quality; `value`: what was asked.
NOTE_NOT_SUPPORTED = Msg("{option} {value}: not supported by {model}")
#: `offered`: the values the model offers, comma-separated.
NOTE_NOT_SUPPORTED_OFFERS = Msg("{option} {value}: not supported by {model} (it offers {offered})")
#: A shape the model does not make: `asked` and `used` are ratios ("21:9").
NOTE_SHAPE_NOT_SUPPORTED = Msg("shape {asked}: not supported by {model}; used {used}")
#: `count`: images per call; `calls`: how many calls it took.
NOTE_CALLS = Plural(
    "{model} makes {count} image per call, so this took {calls} calls",
    "{model} makes {count} images per call, so this took {calls} calls",
)

#: A result's cost when OpenRouter reported none; `amount`: formatted ("$0", "< $0.0001").
COST_NOT_REPORTED = Msg("not reported")
COST_FREE = Msg("{amount} (free)")
COST_TINY = Msg("< {amount}")

#: Notes on a result re-encoded to fit Discord's upload limit (`bot.images.fit_to_size`); `limit`: "25 MiB".
FIT_NOTE = Msg("{how} to fit Discord's {limit} limit")
FIT_FIRST_FRAME_NOTE = Msg("kept only the first frame and {how} to fit Discord's {limit} limit")
FIT_LOSSLESS = Msg("losslessly re-compressed the PNG")
#: `quality`: the encoder's quality setting (0-100).
FIT_WEBP = Msg("re-encoded as WebP q{quality}")
FIT_JPEG = Msg("re-encoded as JPEG q{quality}")
FIT_SCALED = Msg("scaled down to {width}x{height} and re-encoded as WebP q{quality}")

#: The progress message while a streamed image is still being made.
PREVIEW = Msg("Preview: the image is still being made.")
