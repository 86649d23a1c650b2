"""What a member reads on a result of several images (a grid) and its per-image buttons.

Templates with named fields (`str.format`), as the package's rules say, so each can be translated
whole. The result text is Discord Markdown (a Components V2 text display has no embed fields): the
values put into it come in already escaped (`escape_member_text`) or as code spans.
"""

from __future__ import annotations

from bot.messages import Msg, Plural, Text, ui

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
    "FROM_IMAGE",
    "FROM_IMAGE_LINKED",
    "GRID_COST",
    "GRID_DETAILS",
    "GRID_HEADING",
    "GRID_NOTES",
    "GRID_REQUESTED_BY",
    "GRID_SEED",
    "GRID_SEEDS",
    "GRID_SEED_LIST",
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
GRID_HEADING = Msg("### {title}\n{prompt}")
#: `model`: escaped model id; `count`: images shown.
GRID_DETAILS = Msg("**Model** {model} · **Images** {count}")
#: `time`: seconds with one decimal.
GRID_TIME = Msg("**Time** {time} s")
GRID_SHAPE = Msg("**Shape** {shape}")
GRID_SEED = Msg("**Seed** `{seed}`")
#: Images made one call each (or a few per call): each call had the next seed, `first` to `last`.
GRID_SEEDS = Msg("**Seeds** `{first}` to `{last}` (one per call)")
#: Seeds that are no run (a call failed, or was made again): `seeds` lists each image's, in order ("`77`, `79`").
GRID_SEED_LIST = Msg("**Seeds** {seeds} (image by image)")
#: `cost`: the total of every call (`format_cost`), `count`: images.
GRID_COST = Plural("**Cost** {cost} in all for {count} image", "**Cost** {cost} in all for {count} images")
GRID_NOTES = Msg("**Note** {notes}")
#: Subtext (`-#`): who asked. `name` is escaped.
GRID_REQUESTED_BY = Msg("-# Requested by {name}")
#: Subtext of a grid posted again by `/show`: who showed it (escaped).
GRID_SHOWN_BY = Msg("-# Shown again by {name}")
#: Alt text of each gallery image: `number` (1-based) and the prompt (shortened to fit 1024 characters).
ALT_TEXT = Msg("Image {number}: {prompt}")
#: Title of each further embed of a grid posted in the channel without Components V2 (one per image).
CHANNEL_IMAGE_TITLE = "Image {number}"
#: `left`: how many images did not fit one message's gallery.
IMAGES_LEFT_OUT = Plural(
    "{count} more image was made than one message can show; only the first {shown} are shown.",
    "{count} more images were made than one message can show; only the first {shown} are shown.",
)

# -- the buttons (labels carry the image number) ----------------------------------------------------

BUTTON_UPSCALE = Msg("U{number}")
BUTTON_VARY = Msg("V{number}")
BUTTON_EDIT = Msg("Edit {number}")
BUTTON_DESCRIBE = Msg("Describe {number}")
BUTTON_REROLL = Msg("Re-roll")
BUTTON_DELETE = Msg("Delete")
TITLE_UPSCALE = Msg("Upscale")
TITLE_VARY = Msg("Vary")
TITLE_EDIT = Msg("Edit")
TITLE_DESCRIBE = Msg("Description")

# -- results made from one image ------------------------------------------------------------------

#: The "From" value of an Upscale or Vary: `number` of the image, `job_id` of the grid, `link` to it.
FROM_IMAGE = Msg("image {number} of job #{job_id}")
FROM_IMAGE_LINKED = Msg("image {number} of [job #{job_id}]({link})")
#: A note on an Upscale: `resolution` is the tier asked for.
UPSCALED_TO = Msg("Upscaled to {resolution}.")

#: `/show` of a grid: who asked and when (`member_id`, `timestamp`: Unix seconds), and the original.
SHOWN_ASKED_BY_FIELD = Msg("Asked by")
SHOWN_ASKED_BY = Msg("<@{member_id}> · <t:{timestamp}:R>")
SHOWN_ORIGINAL_FIELD = Msg("Original")
SHOWN_ORIGINAL = Msg("job #{job_id}")
SHOWN_ORIGINAL_LINKED = Msg("[job #{job_id}]({link})")

#: `/jobs`: what a job made from one image of another is. `action` is Upscale or Vary.
JOBS_DERIVED = Msg("{action} of image {number} of job #{job_id}")

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
    """The note on images the model's answer listed but the bot left out (the same words as under one image)."""
    return ui.DROPPED_IMAGES.format(count)


def derived_label(action: str, number: int, job_id: int) -> str:
    """`/jobs`' words for a job made from one image of another ("Upscale of image 2 of job #12")."""
    names = {"upscale": TITLE_UPSCALE, "vary": TITLE_VARY, "edit": TITLE_EDIT, "describe": TITLE_DESCRIBE}
    name = names.get(action)
    return JOBS_DERIVED.format(action=name.text if name is not None else action, number=number, job_id=job_id)
