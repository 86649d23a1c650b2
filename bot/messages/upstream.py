"""What OpenRouter's errors mean for a member, and what to do about them.

`model` is always ready to show: the model id in backticks, or `MODEL_UNKNOWN` when the error names
none (`model_text`). OpenRouter's own words (`said`, `detail`) are cut to 300 characters by the caller.
Nothing here may carry a secret: the texts hold the error's type, status, model and OpenRouter's
public wording only.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import listing
from bot.messages import Msg, Text

__all__ = [
    "AUTHENTICATION",
    "BAD_REQUEST",
    "CONNECTION_FAILED",
    "GENERATION_FAILED",
    "IMAGE_ADDRESS_REFUSED",
    "IMAGE_DECODE",
    "INSUFFICIENT_CREDITS",
    "MODEL_NOT_FOUND",
    "MODEL_UNKNOWN",
    "MODERATION",
    "NOT_CHARGED",
    "NO_ALLOWED_PROVIDER",
    "NO_ALLOWED_PROVIDER_LISTED",
    "NO_IMAGE_RETURNED",
    "NO_IMAGE_RETURNED_SAID",
    "NO_REASON",
    "OPENROUTER_ERROR",
    "OPENROUTER_STATUS",
    "PAYLOAD_TOO_LARGE",
    "PROVIDER_UNAVAILABLE",
    "RATE_LIMITED",
    "RATE_LIMITED_FOR",
    "TIMED_OUT",
    "moderation",
    "model_text",
    "no_allowed_provider",
    "no_image_returned",
    "rate_limited",
]

#: How a text names the model when the error does not say which.
MODEL_UNKNOWN = Msg("the model")
_MODEL_ID = "`{model}`"


def model_text(model: str | None) -> str:
    """The model as the texts below show it: its id in backticks, or "the model"."""
    return _MODEL_ID.format(model=model) if model else MODEL_UNKNOWN.text


AUTHENTICATION = Text(
    "OpenRouter refused the bot's key",
    "OpenRouter did not accept the bot's API key (401). This is not your fault: the bot's "
    "operator needs to check `OPENROUTER_API_KEY`. Tell a server admin.",
)
INSUFFICIENT_CREDITS = Text(
    "Out of OpenRouter credits",
    "The bot's OpenRouter account has run out of credits (402). Tell a server admin or the "
    "bot's operator: credits are added at openrouter.ai/settings/credits.",
)

#: `reasons`: what moderation flagged, comma-separated, or `NO_REASON`.
MODERATION = Text(
    "Blocked by moderation",
    "OpenRouter's moderation blocked this request (flagged: {reasons}). "
    "Rephrase the prompt or use another image, then try again.",
)
NO_REASON = Msg("no reason given")


def moderation(reasons: Sequence[str]) -> str:
    """The moderation refusal, naming what was flagged."""
    return MODERATION.format(reasons=listing(reasons) or NO_REASON)


NO_ALLOWED_PROVIDER = Text(
    "No allowed provider",
    "None of the providers this server allows can run {model}. "
    "A member with Manage Server can change the filter with `/config providers`.",
)
#: `providers`: the providers that serve the model, comma-separated.
NO_ALLOWED_PROVIDER_LISTED = Text(
    NO_ALLOWED_PROVIDER.title,
    "None of the providers this server allows can run {model}. Providers that serve it: {providers}. "
    "A member with Manage Server can change the filter with `/config providers`.",
)


def no_allowed_provider(model: str, available: Sequence[str]) -> str:
    """No provider the server allows serves the model; names the ones that do, when OpenRouter said."""
    if available:
        return NO_ALLOWED_PROVIDER_LISTED.format(model=model, providers=listing(available))
    return NO_ALLOWED_PROVIDER.format(model=model)


MODEL_NOT_FOUND = Text(
    "Unknown model",
    "OpenRouter does not know the model {model}. A member with Manage Server can choose another with "
    "`/config model`.",
)

#: `retry_after`: seconds, a number.
RATE_LIMITED_FOR = Text(
    "Too many requests", "OpenRouter is rate-limiting the bot right now. Try again in about {retry_after:g} s."
)
RATE_LIMITED = Text(RATE_LIMITED_FOR.title, "OpenRouter is rate-limiting the bot right now. Try again in a minute.")


def rate_limited(retry_after: float | None) -> str:
    """The rate-limit answer, with OpenRouter's `Retry-After` when it gave one."""
    return RATE_LIMITED_FOR.format(retry_after=retry_after) if retry_after else RATE_LIMITED.format()


TIMED_OUT = Text(
    "The model took too long", "{model} did not finish in time. Try again; a shorter prompt or fewer images can help."
)
PAYLOAD_TOO_LARGE = Text(
    "Request too large", "The images were too large for the model. Use fewer or smaller images."
)
NOT_CHARGED = Text("Generation failed", "{model} failed and was not charged; try again.")
#: `status`: the HTTP status.
PROVIDER_UNAVAILABLE = Text(
    "Model unavailable",
    "{model} is down or overloaded right now (HTTP {status}). Try again in a minute; "
    "if it keeps failing, a member with Manage Server can choose another with `/config model`.",
)
#: `detail`: OpenRouter's message.
BAD_REQUEST = Text(
    "Request refused",
    "{model} refused the request: {detail}. Try a different prompt or image; "
    "if it keeps happening, a member with Manage Server can choose another with `/config model`.",
)
CONNECTION_FAILED = Text("OpenRouter unreachable", "The bot could not reach OpenRouter. Try again in a minute.")

NO_IMAGE_RETURNED = Text(
    "No image came back",
    "{model} answered without an image; it may not be able to make images, or it refused. "
    "Try rephrasing. A member with Manage Server can choose another with `/config model`.",
)
#: `said`: the text the model answered with instead.
NO_IMAGE_RETURNED_SAID = Text(
    NO_IMAGE_RETURNED.title,
    "{model} answered without an image; it may not be able to make images, or it refused. "
    'It said: "{said}" '
    "Try rephrasing. A member with Manage Server can choose another with `/config model`.",
)


def no_image_returned(model: str, said: str) -> str:
    """A model that answered without an image, quoting what it said instead when it said anything."""
    if said:
        return NO_IMAGE_RETURNED_SAID.format(model=model, said=said)
    return NO_IMAGE_RETURNED.format(model=model)


#: `why`: the fetcher's phrase for the refused address (`bot.messages.images`, `FETCH_*`).
IMAGE_ADDRESS_REFUSED = Text(
    "Result image refused",
    "{model} sent its image as a link the bot will not follow ({why}), so there is nothing "
    "to post. Try again; if it keeps happening, a member with Manage Server can choose another with "
    "`/config model`.",
)
IMAGE_DECODE = Text("Unreadable result", "{model} returned an image the bot could not read. Try again.")
GENERATION_FAILED = Text("Generation failed", "{model} failed: {detail}. Try again in a moment.")
OPENROUTER_STATUS = Text("OpenRouter error", "OpenRouter answered with an error (HTTP {status}). Try again later.")
OPENROUTER_ERROR = Text(OPENROUTER_STATUS.title, "The call to OpenRouter failed. Try again later.")
