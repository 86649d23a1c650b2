"""Errors a command raises on purpose, each carrying the message a member should read.

Cogs raise these instead of replying themselves, so that every failure is answered in one place
(the tree's error handler) and always privately.
"""

from __future__ import annotations

__all__ = ["OperationDisabled", "UserFacingError"]


class UserFacingError(Exception):
    """A refusal or failure whose text is written for members: what happened and what to do."""

    title = "That didn't work"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title:
            self.title = title


class OperationDisabled(UserFacingError):
    """A server admin switched this operation off."""

    title = "Not available here"

    def __init__(self, operation_label: str, command: str) -> None:
        super().__init__(
            f"{operation_label} is turned off in this server. A member with Manage Server can turn it "
            f"back on with `/config enable operation:{command}`."
        )
