"""Importing Spotify streaming-history files (extended history ZIPs and account-data JSON) as a
member's plays: `importer.import_history` is the use case, `ImportRefused` says why files
cannot be. The package itself holds only what the reading child needs too (see `child`): the
use case, with asyncio, is imported from `importer`."""

from bot.services.imports.errors import ImportProblem, ImportRefused
from bot.services.imports.rows import SkipReason
from bot.services.imports.sources import ZipLimits

__all__ = ["ImportProblem", "ImportRefused", "SkipReason", "ZipLimits"]
