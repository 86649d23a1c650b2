"""What a member reads when something fails: one function from exception to (title, message).

The order of the checks is the order of specificity; the last branch covers anything unforeseen
with a message that still says what to do. Nothing here may include a secret: messages are built
from the error's type, status, model and OpenRouter's own public wording only.
"""

from __future__ import annotations

from discord import app_commands

from bot.errors import UserFacingError
from bot.images import ImageRejected
from bot.openrouter import errors as upstream

__all__ = ["describe_error"]

ADMIN_MODEL_HINT = "A member with Manage Server can choose another with `/config model`."
ADMIN_PROVIDER_HINT = "A member with Manage Server can change the filter with `/config providers`."


def describe_error(error: BaseException) -> tuple[str, str] | None:
    """A (title, message) pair for errors members can understand, or None for unexpected ones."""
    if isinstance(error, UserFacingError):
        return error.title, error.message
    if isinstance(error, ImageRejected):
        return "Image refused", str(error)
    if isinstance(error, upstream.OpenRouterError):
        return _describe_upstream(error)
    return _describe_check(error)


def _model(error: upstream.OpenRouterError) -> str:
    return f"`{error.model}`" if error.model else "the model"


def _describe_upstream(error: upstream.OpenRouterError) -> tuple[str, str]:  # noqa: C901 - one table
    model = _model(error)
    if isinstance(error, upstream.AuthenticationError):
        return "OpenRouter refused the bot's key", (
            "OpenRouter did not accept the bot's API key (401). This is not your fault: the bot's "
            "operator needs to check `OPENROUTER_API_KEY`. Tell a server admin."
        )
    if isinstance(error, upstream.InsufficientCreditsError):
        return "Out of OpenRouter credits", (
            "The bot's OpenRouter account has run out of credits (402). Tell a server admin or the "
            "bot's operator: credits are added at openrouter.ai/settings/credits."
        )
    if isinstance(error, upstream.ModerationError):
        reasons = ", ".join(error.reasons) or "no reason given"
        return "Blocked by moderation", (
            f"OpenRouter's moderation blocked this request (flagged: {reasons}). "
            "Rephrase the prompt or use another image, then try again."
        )
    if isinstance(error, upstream.ModelNotFoundError):
        if error.no_allowed_provider:
            available = ", ".join(error.available_providers)
            extra = f" Providers that serve it: {available}." if available else ""
            return "No allowed provider", (
                f"None of the providers this server allows can run {model}.{extra} {ADMIN_PROVIDER_HINT}"
            )
        return "Unknown model", f"OpenRouter does not know the model {model}. {ADMIN_MODEL_HINT}"
    if isinstance(error, upstream.RateLimitedError):
        wait = f" in about {error.retry_after:g} s" if error.retry_after else " in a minute"
        return "Too many requests", f"OpenRouter is rate-limiting the bot right now. Try again{wait}."
    if isinstance(error, upstream.UpstreamTimeoutError | upstream.RequestTimedOutError):
        return "The model took too long", (
            f"{model} did not finish in time. Try again; a shorter prompt or fewer images can help."
        )
    if isinstance(error, upstream.PayloadTooLargeError):
        return "Request too large", "The images were too large for the model. Use fewer or smaller images."
    if isinstance(error, upstream.GenerationNotChargedError):
        return "Generation failed", f"{model} failed and was not charged; try again."
    if isinstance(error, upstream.ProviderUnavailableError):
        return "Model unavailable", (
            f"{model} is down or overloaded right now (HTTP {error.status}). Try again in a minute; "
            f"if it keeps failing, {ADMIN_MODEL_HINT[0].lower()}{ADMIN_MODEL_HINT[1:]}"
        )
    if isinstance(error, upstream.BadRequestError):
        return "Request refused", (
            f"{model} refused the request: {error.message[:300]}. Try a different prompt or image; "
            f"if it keeps happening, {ADMIN_MODEL_HINT[0].lower()}{ADMIN_MODEL_HINT[1:]}"
        )
    if isinstance(error, upstream.ConnectionFailedError):
        return "OpenRouter unreachable", "The bot could not reach OpenRouter. Try again in a minute."
    if isinstance(error, upstream.NoImageReturnedError):
        said = f' It said: "{error.text[:300]}"' if error.text else ""
        return "No image came back", (
            f"{model} answered without an image; it may not be able to make images, or it refused.{said} "
            f"Try rephrasing. {ADMIN_MODEL_HINT}"
        )
    if isinstance(error, upstream.ImageAddressRefusedError):
        return "Result image refused", (
            f"{model} sent its image as a link the bot will not follow ({error.why}), so there is nothing "
            f"to post. Try again; if it keeps happening, {ADMIN_MODEL_HINT[0].lower()}{ADMIN_MODEL_HINT[1:]}"
        )
    if isinstance(error, upstream.ImageDecodeError):
        return "Unreadable result", f"{model} returned an image the bot could not read. Try again."
    if isinstance(error, upstream.GenerationFailedError):
        return "Generation failed", f"{model} failed: {error.message[:300]}. Try again in a moment."
    if isinstance(error, upstream.UpstreamStatusError):
        return "OpenRouter error", f"OpenRouter answered with an error (HTTP {error.status}). Try again later."
    return "OpenRouter error", "The call to OpenRouter failed. Try again later."


def _describe_check(error: BaseException) -> tuple[str, str] | None:
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(p.replace("_", " ").replace("guild", "server").title() for p in error.missing_permissions)
        return "Missing permission", f"You need the {needed} permission to use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return "The bot lacks a permission", f"The bot needs {needed} here. Ask a server admin to grant it."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "Servers only", "This command works in a server, not in direct messages."
    if isinstance(error, app_commands.CommandOnCooldown):
        return "Slow down", f"You can use this again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError):
        return "Invalid option", f"The value `{str(error.value)[:100]}` is not valid here. Pick one from the list."
    if isinstance(error, app_commands.CommandSignatureMismatch | app_commands.CommandNotFound):
        return "Command out of date", (
            "Discord has an older version of this command. It updates within a few minutes; try again then."
        )
    if isinstance(error, app_commands.CheckFailure):
        return "Not allowed", "You can't use this command here."
    return None
