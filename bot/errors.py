"""Errors a command raises on purpose, each carrying the message a member should read.

Cogs raise these instead of replying themselves, so that every failure is answered in one place
(the tree's error handler) and always privately. Their words live in `bot.messages`: a subclass takes
its title and message template from there, and `refusal` raises one of its texts without a class.
"""

from __future__ import annotations

from bot.messages import DEFAULT_TITLE, Text
from bot.messages import commands as texts

__all__ = ["OperationDisabled", "UserFacingError", "refusal"]


class UserFacingError(Exception):
    """A refusal or failure whose text is written for members: what happened and what to do."""

    title = DEFAULT_TITLE

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title:
            self.title = title


def refusal(text: Text, /, **values: object) -> UserFacingError:
    """A `UserFacingError` saying one of `bot.messages`' texts, its fields filled with `values`."""
    return UserFacingError(text.format(**values), title=text.title)


class OperationDisabled(UserFacingError):
    """A server admin switched this operation off."""

    title = texts.OPERATION_DISABLED.title

    def __init__(self, operation_label: str, command: str) -> None:
        super().__init__(texts.OPERATION_DISABLED.format(operation=operation_label, command=command))
