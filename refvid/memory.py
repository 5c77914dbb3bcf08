"""Give memory the process has freed back to the operating system, and keep less of it free.

Planning a render analyses full-size pictures with many large temporaries, on two threads.
glibc keeps what they free in its heaps for reuse, so the process's resident size stays at
the analysis's peak for the whole render (about 85 MB of a 12 MP reference's render).
``malloc_trim`` hands those free pages back. Elsewhere (macOS, musl) it does nothing.

A render also runs a dozen threads (analysis, sources, frames, x264's, OpenCV's), and glibc
gives each thread that allocates its own arena (up to eight per core). Large frame-sized
blocks freed in one arena cannot serve another thread's next frame, so every arena keeps its
own reserve of free pages: ``share_arenas`` lets all threads but the main one share one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from typing import Any, Final

M_ARENA_MAX: Final = -8  # mallopt parameter (glibc's malloc.h)
RENDER_ARENAS: Final = 2  # the main thread's and one shared by every other thread


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim, libc.mallopt  # noqa: B018 - not glibc: neither exists
    except (OSError, AttributeError):
        return None
    return libc


def release_free_memory() -> bool:
    """Return freed heap pages to the OS (glibc's ``malloc_trim(0)``); False where there is none."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def share_arenas(count: int = RENDER_ARENAS) -> bool:
    """Let threads created from now on share at most ``count`` malloc arenas; False where there is none.

    Measured on the mixed 12 MP render (benchmarks/render.py): 20-40 MB less peak RSS, with
    the same CPU time. Small objects never reach malloc (Python's own allocator serves them),
    so the threads rarely wait for each other's arena lock. Process-wide, so it is meant for
    processes that render (``generate`` sets it), not for the API's request threads.
    """
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, count))
