"""OpenRouter access: one shared client, typed results, typed errors."""

from bot.openrouter.client import OpenRouterClient, build_http_client
from bot.openrouter.errors import *  # noqa: F403
from bot.openrouter.errors import __all__ as _error_names
from bot.openrouter.types import (
    AnalysisResult,
    GeneratedImage,
    ImageInput,
    ImageResult,
    KeyInfo,
    ModelInfo,
    ProviderFilter,
    ProviderInfo,
)

__all__ = [
    "AnalysisResult",
    "GeneratedImage",
    "ImageInput",
    "ImageResult",
    "KeyInfo",
    "ModelInfo",
    "OpenRouterClient",
    "ProviderFilter",
    "ProviderInfo",
    "build_http_client",
    *_error_names,
]
