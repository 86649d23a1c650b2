"""The errors the OpenRouter client raises, one type per way a call can fail.

Callers catch the most specific type they can act on; everything derives from `OpenRouterError`::

    OpenRouterError
    ├── UpstreamStatusError             an HTTP error status with OpenRouter's error body
    │   ├── BadRequestError             400: parameters the model or provider refused
    │   ├── AuthenticationError         401: the key is wrong or disabled
    │   ├── InsufficientCreditsError    402: the key's account is out of credits
    │   ├── ModerationError             403: the input was flagged (has `reasons`)
    │   │   └── ContentRefusedError     400 with `metadata.block_reason`: the provider refused the content
    │   ├── ModelNotFoundError          404: unknown model, or no allowed provider serves it
    │   ├── UpstreamTimeoutError        408: the provider took too long
    │   ├── PayloadTooLargeError        413: the request body is too big
    │   ├── RateLimitedError            429: slow down (has `retry_after`)
    │   └── ProviderUnavailableError    5xx: the model or provider is down or answered badly
    │       └── GenerationNotChargedError   502 on the Images API: the generation failed, nothing was billed
    ├── TransportError                  no usable HTTP answer at all
    │   ├── RequestTimedOutError        our own time-out expired
    │   └── ConnectionFailedError       could not connect, or the connection was cut
    ├── GenerationFailedError           HTTP 200 carrying an error, or a body we cannot read
    ├── NoImageReturnedError            an image request answered without any image
    └── ImageDecodeError                an image in the answer that cannot be decoded or downloaded
        └── ImageAddressRefusedError    every image was a link to an address the bot will not fetch

Errors raised after an answer arrived (a choice's error, no image, an image that fails) carry that
answer's `cost` and `generation_id`: the call was billed even though it failed. The Images API bills all
or nothing: its 502 (or a streamed error event, which stands for one) says the generation failed and was
not charged, so `GenerationNotChargedError.cost` is 0.0, a reported zero rather than an unknown.

`error_for_status` is the one mapping from an HTTP status (or a status an error event implies) to a type,
for both routes: `images_api=True` only changes what a 502 means.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConnectionFailedError",
    "ContentRefusedError",
    "GenerationFailedError",
    "GenerationNotChargedError",
    "ImageAddressRefusedError",
    "ImageDecodeError",
    "InsufficientCreditsError",
    "ModelNotFoundError",
    "ModerationError",
    "NoImageReturnedError",
    "OpenRouterError",
    "PayloadTooLargeError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "RequestTimedOutError",
    "TransportError",
    "UpstreamStatusError",
    "UpstreamTimeoutError",
    "error_for_status",
]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 524, 529})


class OpenRouterError(Exception):
    """Base class: any failure of an OpenRouter call."""

    #: Whether the same call may succeed if simply tried again later.
    retryable: bool = False
    #: USD OpenRouter reported for the failed call (a 200 without an image can still be billed).
    cost: float | None = None
    #: The id of the answer the failure came after (`GET /generation?id=`), when one arrived.
    generation_id: str | None = None

    def __init__(self, message: str, *, model: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.model = model


class UpstreamStatusError(OpenRouterError):
    """OpenRouter answered with an error status and its `{"error": {...}}` body."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        metadata: dict[str, Any] | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message, model=model)
        self.status = status
        self.metadata = metadata or {}
        self.retryable = status in RETRYABLE_STATUSES

    @property
    def provider_name(self) -> str | None:
        """The provider OpenRouter blames, when it names one."""
        value = self.metadata.get("provider_name")
        return str(value) if value else None


class BadRequestError(UpstreamStatusError):
    """400: the request was malformed or a parameter was refused."""


class AuthenticationError(UpstreamStatusError):
    """401: the API key is missing, wrong or disabled."""


class InsufficientCreditsError(UpstreamStatusError):
    """402: the account behind the key has no credits left."""


class ModerationError(UpstreamStatusError):
    """403: the input was flagged by moderation."""

    @property
    def reasons(self) -> list[str]:
        """The moderation categories OpenRouter gave, in its words."""
        reasons = self.metadata.get("reasons") or []
        return [str(reason) for reason in reasons] if isinstance(reasons, list) else [str(reasons)]


class ModelNotFoundError(UpstreamStatusError):
    """404: the model does not exist, or no allowed provider serves it."""

    @property
    def no_allowed_provider(self) -> bool:
        """True when the model exists but the provider filter excluded every provider."""
        return "provider" in self.message.lower() or "available_providers" in self.metadata

    @property
    def available_providers(self) -> list[str]:
        """The providers that do serve the model, when OpenRouter lists them."""
        value = self.metadata.get("available_providers") or []
        return [str(item) for item in value] if isinstance(value, list) else []


class UpstreamTimeoutError(UpstreamStatusError):
    """408: the provider did not answer in time."""


class PayloadTooLargeError(UpstreamStatusError):
    """413: the request (usually its images) is too large."""


class RateLimitedError(UpstreamStatusError):
    """429: too many requests; `retry_after` says how long to wait, when known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ContentRefusedError(ModerationError, BadRequestError):
    """400 with `metadata.block_reason`: the provider refused the prompt or image (the Images API's refusal).

    A `ModerationError` for whoever explains it to a member (`reasons` holds the block reason), and a
    `BadRequestError` by its status.
    """

    @property
    def block_reason(self) -> str | None:
        """The provider's reason, in its words (`SAFETY`, `content_policy_violation`, ...)."""
        value = self.metadata.get("block_reason")
        return str(value) if value else None

    @property
    def reasons(self) -> list[str]:
        """The moderation categories when given, else the block reason."""
        listed = super().reasons
        if listed:
            return listed
        return [self.block_reason] if self.block_reason else []


class ProviderUnavailableError(UpstreamStatusError):
    """5xx: the model is down, overloaded, or no provider meets the routing requirements."""


class GenerationNotChargedError(ProviderUnavailableError):
    """502 from the Images API: the generation failed (or was cancelled upstream) and was not charged.

    `cost` is 0.0, a reported zero, so the ledger records $0 instead of "unknown". Retried like any 502.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.cost = 0.0


class TransportError(OpenRouterError):
    """No usable HTTP answer arrived."""

    retryable = True


class RequestTimedOutError(TransportError):
    """Our own time-out expired before OpenRouter answered."""


class ConnectionFailedError(TransportError):
    """The connection could not be made or was cut before an answer."""


class GenerationFailedError(OpenRouterError):
    """A 200 answer that still failed: an error object in a choice, or a body we cannot read."""

    def __init__(self, message: str, *, code: int | None = None, model: str | None = None) -> None:
        super().__init__(message, model=model)
        self.code = code
        self.retryable = code in RETRYABLE_STATUSES if code else False


class NoImageReturnedError(OpenRouterError):
    """An image was asked for and none came back; `text` holds what the model said instead."""

    def __init__(self, message: str, *, text: str = "", model: str | None = None) -> None:
        super().__init__(message, model=model)
        self.text = text


class ImageDecodeError(OpenRouterError):
    """The answer carried an image we could not decode (bad data URL, not an image, download failed)."""


class ImageAddressRefusedError(ImageDecodeError):
    """The answer's images were links the bot will not fetch (a private address, not http(s), ...).

    Raised only when no image was left; `why` is the fetcher's member-readable reason, such as
    "it points into a private network". Nothing was downloaded.
    """

    def __init__(self, message: str, *, why: str, model: str | None = None) -> None:
        super().__init__(message, model=model)
        self.why = why


_STATUS_TYPES: dict[int, type[UpstreamStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: ModerationError,
    404: ModelNotFoundError,
    408: UpstreamTimeoutError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
}


def error_for_status(
    status: int,
    message: str,
    *,
    metadata: dict[str, Any] | None = None,
    retry_after: float | None = None,
    model: str | None = None,
    images_api: bool = False,
) -> UpstreamStatusError:
    """Build the most specific error for an HTTP status, on either route.

    A 400 whose metadata carries `block_reason` is a content refusal; with `images_api`, a 502 is a
    generation that failed without being charged.
    """
    if status == 429:
        return RateLimitedError(
            message, status=status, metadata=metadata, retry_after=retry_after, model=model
        )
    if status == 400 and metadata and metadata.get("block_reason"):
        return ContentRefusedError(message, status=status, metadata=metadata, model=model)
    if status == 502 and images_api:
        return GenerationNotChargedError(message, status=status, metadata=metadata, model=model)
    error_type = _STATUS_TYPES.get(status)
    if error_type is None:
        error_type = ProviderUnavailableError if status >= 500 else UpstreamStatusError
    return error_type(message, status=status, metadata=metadata, model=model)
