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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt and malloc_info")
def test_threads_share_the_arenas_they_are_given() -> None:
    # A fresh process: eight threads allocating at once would make eight more arenas;
    # glibc's malloc_info lists one <heap> per arena.
    script = (
        "import ctypes, os, tempfile, threading\n"
        "from refvid.memory import share_arenas\n"
        "assert share_arenas(2)\n"
        "together = threading.Barrier(8)\n"
        "def work():\n"
        "    together.wait()\n"
        "    blocks = [ctypes.create_string_buffer(200_000) for _ in range(20)]\n"
        "    together.wait()\n"
        "threads = [threading.Thread(target=work) for _ in range(8)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "libc = ctypes.CDLL(None)\n"
        "libc.fopen.restype = ctypes.c_void_p\n"
        "path = tempfile.mktemp()\n"
        "handle = ctypes.c_void_p(libc.fopen(path.encode(), b'w'))\n"
        "libc.malloc_info(0, handle); libc.fclose(handle)\n"
        "print(open(path).read().count('<heap nr='))\n"
        "os.unlink(path)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert int(done.stdout.strip()) <= 2, done.stdout
