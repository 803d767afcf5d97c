"""Owner-only files and folders for what Encore keeps on disk (database, key file, copies)."""

from __future__ import annotations

import contextlib
from pathlib import Path

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700


def make_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) readable by its owner only; an existing folder
    is left as the operator set it."""
    if path.is_dir():
        return
    path.mkdir(mode=OWNER_ONLY_DIR, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        path.chmod(OWNER_ONLY_DIR)  # mkdir's mode is masked by the umask


def readable_by_others(path: Path) -> bool:
    """Whether the group or anyone else may read or write `path`."""
    return bool(path.stat().st_mode & 0o077)


def make_owner_only(path: Path) -> None:
    """Remove group and other access from `path` if it exists and has any."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if readable_by_others(path):
            path.chmod(OWNER_ONLY_FILE)
