"""Process-wide memory settings, applied once at the very start of `python -m bot`.

glibc's malloc gives threads that allocate at the same time their own arenas, up to eight
per core, and memory freed into an arena mostly stays there for the life of the process.
Encore's threads (one per SQLite connection, asyncio's `to_thread` workers and the DNS
resolver) only run short calls, so a process ends up with a dozen arenas, each holding on to
the high-water mark of what its threads ever needed. Two arenas are plenty for one event loop
and a few workers, and cost no measurable time.

This is what `MALLOC_ARENA_MAX=2` in the environment does, but set from inside the process it
holds however Encore is launched (scripts/run, systemd, Docker, `python -m bot`). An operator's
own `MALLOC_ARENA_MAX` wins. Other C libraries (musl, macOS, Windows) are left alone.
"""

from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8
"""mallopt's parameter number for the arena limit (glibc's malloc.h)."""
ARENA_MAX = 2
ENV_OVERRIDE = "MALLOC_ARENA_MAX"


def limit_malloc_arenas(arenas: int = ARENA_MAX) -> bool:
    """Cap glibc's malloc arenas at `arenas`; returns whether the cap was set here.

    Call it before any thread starts: threads that already have an arena keep it.
    """
    if ENV_OVERRIDE in os.environ:
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # only glibc has it  # noqa: B018
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas) == 1)
