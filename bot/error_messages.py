"""Which text a member reads when something fails: one function from exception to (title, message).

The words are in `bot.messages` (`upstream` for OpenRouter, `commands` for failed checks, and each
`UserFacingError` brings its own from there); this module only decides which of them answers which
error. The order of the checks is the order of specificity; the last branch covers anything
unforeseen with a message that still says what to do. Nothing here may include a secret: messages are
built from the error's type, status, model and OpenRouter's own public wording only.
"""

from __future__ import annotations

from discord import app_commands

from bot.errors import UserFacingError
from bot.images import ImageRejected
from bot.messages import commands, upstream
from bot.messages.images import IMAGE_REFUSED_TITLE
from bot.openrouter import errors as upstream_errors

__all__ = ["describe_error"]

#: How much of OpenRouter's (or the model's) own words a message quotes.
_QUOTED = 300


def describe_error(error: BaseException) -> tuple[str, str] | None:
    """A (title, message) pair for errors members can understand, or None for unexpected ones."""
    if isinstance(error, UserFacingError):
        return error.title, error.message
    if isinstance(error, ImageRejected):
        return IMAGE_REFUSED_TITLE, str(error)
    if isinstance(error, upstream_errors.OpenRouterError):
        return _describe_upstream(error)
    return _describe_check(error)


def _describe_upstream(error: upstream_errors.OpenRouterError) -> tuple[str, str]:  # noqa: C901 - one table
    model = upstream.model_text(error.model)
    if isinstance(error, upstream_errors.AuthenticationError):
        return upstream.AUTHENTICATION.pair()
    if isinstance(error, upstream_errors.InsufficientCreditsError):
        return upstream.INSUFFICIENT_CREDITS.pair()
    if isinstance(error, upstream_errors.ModerationError):
        return upstream.MODERATION.title, upstream.moderation(error.reasons)
    if isinstance(error, upstream_errors.ModelNotFoundError):
        if error.no_allowed_provider:
            return upstream.NO_ALLOWED_PROVIDER.title, upstream.no_allowed_provider(model, error.available_providers)
        return upstream.MODEL_NOT_FOUND.pair(model=model)
    if isinstance(error, upstream_errors.RateLimitedError):
        return upstream.RATE_LIMITED.title, upstream.rate_limited(error.retry_after)
    if isinstance(error, upstream_errors.UpstreamTimeoutError | upstream_errors.RequestTimedOutError):
        return upstream.TIMED_OUT.pair(model=model)
    if isinstance(error, upstream_errors.PayloadTooLargeError):
        return upstream.PAYLOAD_TOO_LARGE.pair()
    if isinstance(error, upstream_errors.GenerationNotChargedError):
        return upstream.NOT_CHARGED.pair(model=model)
    if isinstance(error, upstream_errors.ProviderUnavailableError):
        return upstream.PROVIDER_UNAVAILABLE.pair(model=model, status=error.status)
    if isinstance(error, upstream_errors.BadRequestError):
        return upstream.BAD_REQUEST.pair(model=model, detail=error.message[:_QUOTED])
    if isinstance(error, upstream_errors.ConnectionFailedError):
        return upstream.CONNECTION_FAILED.pair()
    if isinstance(error, upstream_errors.NoImageReturnedError):
        return upstream.NO_IMAGE_RETURNED.title, upstream.no_image_returned(model, error.text[:_QUOTED])
    if isinstance(error, upstream_errors.ImageAddressRefusedError):
        return upstream.IMAGE_ADDRESS_REFUSED.pair(model=model, why=error.why)
    if isinstance(error, upstream_errors.ImageDecodeError):
        return upstream.IMAGE_DECODE.pair(model=model)
    if isinstance(error, upstream_errors.GenerationFailedError):
        return upstream.GENERATION_FAILED.pair(model=model, detail=error.message[:_QUOTED])
    if isinstance(error, upstream_errors.UpstreamStatusError):
        return upstream.OPENROUTER_STATUS.pair(status=error.status)
    return upstream.OPENROUTER_ERROR.pair()


def _describe_check(error: BaseException) -> tuple[str, str] | None:
    if isinstance(error, app_commands.MissingPermissions):
        return commands.MISSING_PERMISSION.pair(permissions=commands.permission_names(error.missing_permissions))
    if isinstance(error, app_commands.BotMissingPermissions):
        return commands.BOT_MISSING_PERMISSION.pair(permissions=commands.permission_names(error.missing_permissions))
    if isinstance(error, app_commands.NoPrivateMessage):
        return commands.NO_PRIVATE_MESSAGE.pair()
    if isinstance(error, app_commands.CommandOnCooldown):
        return commands.COMMAND_ON_COOLDOWN.pair(retry_after=error.retry_after)
    if isinstance(error, app_commands.TransformerError):
        return commands.INVALID_OPTION.pair(value=str(error.value)[:100])
    if isinstance(error, app_commands.CommandSignatureMismatch | app_commands.CommandNotFound):
        return commands.COMMAND_OUT_OF_DATE.pair()
    if isinstance(error, app_commands.CheckFailure):
        return commands.NOT_ALLOWED.pair()
    return None
