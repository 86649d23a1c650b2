"""The choices `/imagine` and `/edit` share, built once from the values in `bot.operations`."""

from __future__ import annotations

from discord import app_commands

from bot.operations import QUALITIES, RESOLUTIONS, ImageFormat

__all__ = ["FORMAT_CHOICES", "QUALITY_CHOICES", "RESOLUTION_CHOICES"]

FORMAT_CHOICES = [app_commands.Choice(name=fmt.label, value=fmt.value) for fmt in ImageFormat]
RESOLUTION_CHOICES = [app_commands.Choice(name=tier, value=tier) for tier in RESOLUTIONS]
QUALITY_CHOICES = [app_commands.Choice(name=level, value=level) for level in QUALITIES]
