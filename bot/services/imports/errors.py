"""Why an upload is refused: a kind the web page can choose its advice by, and words a member
can act on."""

from __future__ import annotations

import enum

from bot.domain import ServiceError

_NAME_LENGTH = 80


class ImportProblem(enum.Enum):
    NOT_HISTORY = "not_history"  # neither a ZIP nor a JSON file
    WRONG_SHAPE = "wrong_shape"  # JSON, but not a Spotify streaming history
    EMPTY = "empty"
    TRUNCATED = "truncated"  # a ZIP or JSON file cut short
    DAMAGED = "damaged"  # a ZIP whose data does not check out
    NO_HISTORY_FILES = "no_history_files"  # a ZIP without any history file
    TOO_LARGE = "too_large"  # past a ZIP safety limit (entries, size, compression ratio)


class ImportRefused(ServiceError):
    """The files cannot be imported; `reason` says why and what to upload instead."""

    def __init__(self, problem: ImportProblem, reason: str) -> None:
        super().__init__(reason)
        self.problem = problem
        self.reason = reason


def shown_name(name: str) -> str:
    """A file name as a member may read it in a reason: its last part, not too long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1] or name
    if len(base) > _NAME_LENGTH:
        return base[: _NAME_LENGTH - 1] + "…"
    return base
