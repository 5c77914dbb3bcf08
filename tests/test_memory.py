"""Freed memory goes back to the operating system."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and glibc's malloc_trim")
def test_freed_heap_pages_go_back_to_the_os() -> None:
    # A fresh process: fill the heap with many blocks below glibc's mmap threshold, free all
    # but the last (it pins the heap's top, so glibc's own trimming of the top cannot help).
    script = (
        "import os\n"
        "from refvid.memory import release_free_memory\n"
        "def rss():\n"
        "    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
        "blocks = [bytearray(64 * 1024) for _ in range(3000)]\n"
        "keep = blocks[-1]\n"
        "del blocks\n"
        "before = rss()\n"
        "assert release_free_memory()\n"
        "print((before - rss()) // 2**20)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert int(done.stdout.strip()) > 100, done.stdout  # about 190 MB were freed
