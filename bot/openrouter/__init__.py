"""OpenRouter access: one shared client, typed results, typed errors."""

from bot.openrouter.client import (
    MAX_IMAGES_PER_ANSWER,
    MAX_IMAGES_PER_REQUEST,
    AnswerCallback,
    OpenRouterClient,
    PartialCallback,
    build_http_client,
    pool_limits,
)
from bot.openrouter.errors import *  # noqa: F403
from bot.openrouter.errors import __all__ as _error_names
from bot.openrouter.types import (
    AnalysisResult,
    BooleanParam,
    EnumParam,
    GeneratedImage,
    ImageEndpointInfo,
    ImageInput,
    ImageModelInfo,
    ImagePricing,
    ImageResult,
    KeyInfo,
    ModelInfo,
    ParamDescriptor,
    ProviderFilter,
    ProviderInfo,
    RangeParam,
)

__all__ = [
    "MAX_IMAGES_PER_ANSWER",
    "MAX_IMAGES_PER_REQUEST",
    "AnalysisResult",
    "AnswerCallback",
    "BooleanParam",
    "EnumParam",
    "GeneratedImage",
    "ImageEndpointInfo",
    "ImageInput",
    "ImageModelInfo",
    "ImagePricing",
    "ImageResult",
    "KeyInfo",
    "ModelInfo",
    "OpenRouterClient",
    "PartialCallback",
    "ParamDescriptor",
    "ProviderFilter",
    "ProviderInfo",
    "RangeParam",
    "build_http_client",
    "pool_limits",
    *_error_names,
]
