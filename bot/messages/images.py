"""Refused images: uploads the bot cannot read or take, downloads that failed, inputs that are gone.

`label` is always the member's filename already quoted and escaped (`bot.images._label`,
`ImageSource.label`), and sizes come formatted ("25 MiB").
"""

from __future__ import annotations

from bot.messages import DEFAULT_TITLE, Msg, Plural, Text

__all__ = [
    "ADDRESS_REFUSED_DISCORD",
    "ADDRESS_REFUSED_EMBED",
    "ATTACHMENT_UNAVAILABLE_TITLE",
    "CANNOT_FIT",
    "DAMAGED",
    "DOWNLOAD_FAILED_DISCORD",
    "DOWNLOAD_FAILED_EMBED",
    "EMPTY_MENU_PROMPT",
    "FETCH_CONNECTION_FAILED",
    "FETCH_HTTP_STATUS",
    "FETCH_INVALID",
    "FETCH_NOT_FOUND",
    "FETCH_NOT_WEB",
    "FETCH_PRIVATE",
    "FETCH_TOO_LARGE",
    "FETCH_TOO_SLOW",
    "IMAGE_GONE_REFERENCE",
    "IMAGE_GONE_RESULT",
    "IMAGE_REFUSED_TITLE",
    "MESSAGE_GONE",
    "MODEL_TAKES_NO_IMAGE",
    "NOT_AN_IMAGE",
    "NO_IMAGE_TO_DESCRIBE",
    "NO_IMAGE_TO_EDIT",
    "PIXEL_LIMIT",
    "REFERENCES_TRIMMED",
    "TOO_LARGE",
    "TOO_LARGE_UNKNOWN_SIZE",
    "TOO_MANY_IMAGES",
    "TOO_MANY_IMAGES_TITLE",
    "TOO_MANY_PIXELS",
    "TOO_MANY_PIXELS_SIZED",
    "UNSUPPORTED_FORMAT",
    "no_image_found",
    "references_trimmed",
    "too_many_images",
]

#: The title of every `bot.images.ImageRejected`.
IMAGE_REFUSED_TITLE = "Image refused"

# -- what decoding found (`bot.images`) -----------------------------------------------------------

NOT_AN_IMAGE = Msg("{label} isn't an image I can read. Upload a PNG, JPEG, WebP or GIF.")
#: `format`: the format the file claims ("PNG", "WebP").
DAMAGED = (
    Msg("{label} looks like a {format} image but is damaged or incomplete. "
    "Re-export it, or upload it again if the upload was cut off.")
)
#: `format`: the format Pillow found ("BMP", "TIFF").
UNSUPPORTED_FORMAT = (
    Msg("{label} is in {format} format, which isn't supported. Convert it to PNG, JPEG, WebP or GIF and "
    "upload it again.")
)
#: `size`: the file's size; `limit`: the largest allowed.
TOO_LARGE = (
    Msg("{label} is {size}; images can be at most {limit}. Upload a smaller or more compressed version, for "
    "example a JPEG.")
)
#: A download cut off at `limit`, whose real size nobody knows.
TOO_LARGE_UNKNOWN_SIZE = (
    Msg("{label} is larger than {limit}; images can be at most {limit}. Upload a smaller or more compressed "
    "version, for example a JPEG.")
)
#: `megapixels`: the decoding limit, a number.
PIXEL_LIMIT = Msg("{megapixels:g} megapixels")
#: `limit`: `PIXEL_LIMIT` filled in.
TOO_MANY_PIXELS = (
    Msg("{label} has too many pixels to process safely (the limit is {limit}). Scale it down and upload it again.")
)
#: `megapixels`: the image's, a number.
TOO_MANY_PIXELS_SIZED = (
    Msg("{label} is {width}\u00d7{height} pixels ({megapixels:.1f} megapixels); the limit is {limit}. "
    "Scale it down and upload it again.")
)
#: A result that cannot be made small enough for Discord; `limit`: the upload limit.
CANNOT_FIT = (
    Msg("The image is too large to post here: even scaled down to {width}x{height} it is over the {limit} "
    "upload limit.")
)

# -- downloads (`bot.attachments`, `bot.fetcher`) -------------------------------------------------

ATTACHMENT_UNAVAILABLE_TITLE = "Couldn't fetch the image"
#: `why`: one of the `FETCH_*` phrases.
DOWNLOAD_FAILED_DISCORD = (
    Msg("I couldn't download {label} from Discord ({why}). It may have been deleted or expired; "
    "upload the image again and retry.")
)
DOWNLOAD_FAILED_EMBED = (
    Msg("I couldn't download {label} from where the embed points ({why}). It may have been deleted or expired; "
    "upload the image again and retry.")
)
ADDRESS_REFUSED_DISCORD = (
    Msg("I can't fetch {label} from the address Discord gave for it: {why}. Upload the image as an attachment instead.")
)
ADDRESS_REFUSED_EMBED = (
    Msg("I can't fetch {label} from the address in that embed: {why}. Upload the image as an attachment instead.")
)

#: Why a URL was not fetched, as the phrases above (and `upstream.IMAGE_ADDRESS_REFUSED`) quote it.
FETCH_NOT_WEB = Msg("it is not a web address (only http and https links can be fetched)")
FETCH_INVALID = Msg("it is not a valid address")
FETCH_PRIVATE = Msg("it points into a private network")
FETCH_TOO_SLOW = Msg("it took too long")
FETCH_CONNECTION_FAILED = Msg("the connection failed")
FETCH_NOT_FOUND = Msg("its address could not be found")
FETCH_HTTP_STATUS = Msg("HTTP {status}")
FETCH_TOO_LARGE = Msg("it is too large")

# -- images a command or button needs -------------------------------------------------------------

#: A message menu used on a message without an image: one whole text per menu (`no_image_found`).
NO_IMAGE_TO_EDIT = Text(
    "No image here",
    "That message has no image to edit. Use it on a message with an image attached or embedded, or upload "
    "one with `/edit`.",
)
NO_IMAGE_TO_DESCRIBE = Text(
    NO_IMAGE_TO_EDIT.title,
    "That message has no image to describe. Use it on a message with an image attached or embedded, or "
    "upload one with `/describe`.",
)


def no_image_found(command: str) -> str:
    """The refusal of the message menu of `command` ("edit" or "describe") on a message without an image."""
    return (NO_IMAGE_TO_DESCRIBE if command == "describe" else NO_IMAGE_TO_EDIT).format()
MESSAGE_GONE = Text(
    "Message gone",
    "I can no longer find the message you chose (it was deleted, or I can't read that channel). "
    "Use \u201cEdit image\u201d on another message, or upload the image with `/edit`.",
)
EMPTY_MENU_PROMPT = Text(
    DEFAULT_TITLE, "The prompt was empty. Use \u201cEdit image\u201d again and say what should change."
)
IMAGE_GONE_RESULT = Text(
    "Image gone",
    "The image of this result is gone: its message was deleted or its link expired, so it can't be used any "
    "more. Run the command again to make a new one.",
)
IMAGE_GONE_REFERENCE = Text(
    IMAGE_GONE_RESULT.title,
    "An image this job used is gone: its message was deleted or its link expired, so it can't be used any "
    "more. Run the command again to make a new one.",
)

TOO_MANY_IMAGES_TITLE = "Too many images"
#: `count`: the server's limit; `given`: how many images the member gave.
TOO_MANY_IMAGES = Plural(
    "This server allows {count} image per edit, and you gave {given}. Try again with fewer. "
    "A member with Manage Server can raise the limit (up to 3) with `/config max-references`.",
    "This server allows {count} images per edit, and you gave {given}. Try again with fewer. "
    "A member with Manage Server can raise the limit (up to 3) with `/config max-references`.",
)


def too_many_images(limit: int, given: int) -> str:
    """More images given to an edit than the server's max references."""
    return TOO_MANY_IMAGES.format(limit, given=given)


# -- what the edit model takes (`bot.jobs.planning.fit_references`) --------------------------------

#: The server's edit model makes images from text only: an edit would send the picture, be ignored and billed.
MODEL_TAKES_NO_IMAGE = Text(
    "Not possible with this model",
    "`{model}` can't take an image, so it can't edit one: it would ignore the picture and still be paid "
    "for. An admin can pick another model for edits with `/config model`.",
)
#: More images than the model takes: the first `count` of the `given` were sent.
REFERENCES_TRIMMED = Plural(
    "Used the first of the {given} images: {model} takes only {count}.",
    "Used the first {count} of the {given} images: {model} takes at most {count}.",
)


def references_trimmed(limit: int, given: int, model: str) -> str:
    """The note on an edit that sent fewer images than it was given, because the model takes no more."""
    return REFERENCES_TRIMMED.format(limit, given=given, model=model)
