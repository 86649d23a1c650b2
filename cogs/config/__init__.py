"""`/config`: per-server choices of model, providers, limits and on/off, for Manage Server members.

Every subcommand checks the member's permissions itself (`interaction_check`): default permissions
only hide the group, and a server can hand it to anyone. Each change is written together with its
history row in one transaction (`GuildConfigStore.change`), so `/config history` never disagrees
with the settings, and the next command sees the change at once. Replies are private: they are for
the admin, not the channel. Model and provider names are checked against the `ModelCatalog`,
which never makes these commands wait on OpenRouter for more than about a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.config._cog import Config, may_configure

if TYPE_CHECKING:
    from bot.core import ImageBot

__all__ = ["Config", "may_configure", "setup"]


async def setup(bot: ImageBot) -> None:
    """Load the cog."""
    await bot.add_cog(Config(bot))
