"""What a member reads on a result of several images (a grid) and its per-image buttons.

Templates with named fields (`str.format`), as the package's rules say, so each can be translated
whole. The result text is Discord Markdown (a Components V2 text display has no embed fields): the
values put into it come in already escaped (`escape_member_text`) or as code spans.
"""

from __future__ import annotations

from bot.messages import Text

__all__ = [
    "ALT_TEXT",
    "BUTTON_DELETE",
    "BUTTON_DESCRIBE",
    "BUTTON_EDIT",
    "BUTTON_REROLL",
    "BUTTON_UPSCALE",
    "BUTTON_VARY",
    "CANNOT_TAKE_REFERENCE",
    "CHANNEL_IMAGE_TITLE",
    "DROPPED_MANY",
    "DROPPED_ONE",
    "FROM_IMAGE",
    "FROM_IMAGE_LINKED",
    "GRID_COST",
    "GRID_DETAILS",
    "GRID_HEADING",
    "GRID_NOTES",
    "GRID_REQUESTED_BY",
    "GRID_SEED",
    "GRID_SEEDS",
    "GRID_SHAPE",
    "GRID_SHOWN_BY",
    "GRID_TIME",
    "IMAGES_LEFT_OUT",
    "JOBS_DERIVED",
    "NOTHING_TO_UPSCALE",
    "NO_HIGHER_RESOLUTION",
    "NO_SUCH_IMAGE",
    "SHOWN_ASKED_BY",
    "SHOWN_ASKED_BY_FIELD",
    "SHOWN_ORIGINAL",
    "SHOWN_ORIGINAL_FIELD",
    "SHOWN_ORIGINAL_LINKED",
    "TITLE_DESCRIBE",
    "TITLE_EDIT",
    "TITLE_UPSCALE",
    "TITLE_VARY",
    "UPSCALED_TO",
    "derived_label",
    "dropped",
]

# -- the result text (a text display under the gallery) -------------------------------------------

#: `title`: the result's title (Imagine, Edit, Re-roll, ...); `prompt`: escaped and shortened.
GRID_HEADING = "### {title}\n{prompt}"
#: `model`: escaped model id; `count`: images shown.
GRID_DETAILS = "**Model** {model} · **Images** {count}"
#: `time`: seconds with one decimal.
GRID_TIME = "**Time** {time} s"
GRID_SHAPE = "**Shape** {shape}"
GRID_SEED = "**Seed** `{seed}`"
#: Images made one call each (or a few per call): each call had the next seed, `first` to `last`.
GRID_SEEDS = "**Seeds** `{first}` to `{last}` (one per call)"
#: `cost`: the total of every call (`format_cost`), `count`: images.
GRID_COST = "**Cost** {cost} in all for {count} images"
GRID_NOTES = "**Note** {notes}"
#: Subtext (`-#`): who asked. `name` is escaped.
GRID_REQUESTED_BY = "-# Requested by {name}"
#: Subtext of a grid posted again by `/show`: who showed it (escaped).
GRID_SHOWN_BY = "-# Shown again by {name}"
#: Alt text of each gallery image: `number` (1-based) and the prompt (shortened to fit 1024 characters).
ALT_TEXT = "Image {number}: {prompt}"
#: Title of each further embed of a grid posted in the channel without Components V2 (one per image).
CHANNEL_IMAGE_TITLE = "Image {number}"
#: The model's answer listed more images than one answer may carry (`count` left out: 1, or more).
DROPPED_ONE = (
    "The model's answer listed 1 more image that I left out (over the limit per answer, or at an address "
    "I don't fetch from)."
)
DROPPED_MANY = (
    "The model's answer listed {count} more images that I left out (over the limit per answer, or at an address "
    "I don't fetch from)."
)
#: `left`: how many images did not fit one message's gallery.
IMAGES_LEFT_OUT = "{left} more image(s) were made than one message can show; only the first {shown} are shown."

# -- the buttons (labels carry the image number) ----------------------------------------------------

BUTTON_UPSCALE = "U{number}"
BUTTON_VARY = "V{number}"
BUTTON_EDIT = "Edit {number}"
BUTTON_DESCRIBE = "Describe {number}"
BUTTON_REROLL = "Re-roll"
BUTTON_DELETE = "Delete"
TITLE_UPSCALE = "Upscale"
TITLE_VARY = "Vary"
TITLE_EDIT = "Edit"
TITLE_DESCRIBE = "Description"

# -- results made from one image ------------------------------------------------------------------

#: The "From" value of an Upscale or Vary: `number` of the image, `job_id` of the grid, `link` to it.
FROM_IMAGE = "image {number} of job #{job_id}"
FROM_IMAGE_LINKED = "image {number} of [job #{job_id}]({link})"
#: A note on an Upscale: `resolution` is the tier asked for.
UPSCALED_TO = "Upscaled to {resolution}."

#: `/show` of a grid: who asked and when (`member_id`, `timestamp`: Unix seconds), and the original.
SHOWN_ASKED_BY_FIELD = "Asked by"
SHOWN_ASKED_BY = "<@{member_id}> · <t:{timestamp}:R>"
SHOWN_ORIGINAL_FIELD = "Original"
SHOWN_ORIGINAL = "job #{job_id}"
SHOWN_ORIGINAL_LINKED = "[job #{job_id}]({link})"

#: `/jobs`: what a job made from one image of another is. `action` is Upscale or Vary.
JOBS_DERIVED = "{action} of image {number} of job #{job_id}"

NO_HIGHER_RESOLUTION = Text(
    "Already the largest",
    "`{model}` makes nothing larger than {resolution}, so image {number} can't be upscaled. "
    "Use V{number} for a variation instead.",
)
CANNOT_TAKE_REFERENCE = Text(
    "Not possible with this model",
    "`{model}` can't take an image as a reference, so it can't upscale or vary one. "
    "An admin can pick another model with `/config model`.",
)
NO_SUCH_IMAGE = Text(
    "No such image",
    "This result (job #{job_id}) has no image {number}. Use the buttons of the image you mean.",
)
NOTHING_TO_UPSCALE = Text("Nothing to upscale", "Upscale and Vary work on image results only.")


def dropped(count: int) -> str:
    """The note on images the model's answer listed but the bot left out."""
    return DROPPED_ONE if count == 1 else DROPPED_MANY.format(count=count)


def derived_label(action: str, number: int, job_id: int) -> str:
    """`/jobs`' words for a job made from one image of another ("Upscale of image 2 of job #12")."""
    names = {"upscale": TITLE_UPSCALE, "vary": TITLE_VARY, "edit": TITLE_EDIT, "describe": TITLE_DESCRIBE}
    return JOBS_DERIVED.format(action=names.get(action, action), number=number, job_id=job_id)
