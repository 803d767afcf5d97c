"""Importing Spotify streaming-history files (extended history ZIPs and account-data JSON) as a
member's plays: `import_history` is the use case, `ImportRefused` says why files cannot be."""

from bot.services.imports.errors import ImportProblem, ImportRefused
from bot.services.imports.importer import (
    ImportPhase,
    ImportProgress,
    ImportSummary,
    PlaySink,
    RecordCount,
    import_history,
    store_sink,
)
from bot.services.imports.rows import SkipReason
from bot.services.imports.sources import ZipLimits

__all__ = [
    "ImportPhase",
    "ImportProblem",
    "ImportProgress",
    "ImportRefused",
    "ImportSummary",
    "PlaySink",
    "RecordCount",
    "SkipReason",
    "ZipLimits",
    "import_history",
    "store_sink",
]
