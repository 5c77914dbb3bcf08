"""Run a frame iterator in a background thread, a few frames ahead of the encoder.

x264 encodes on its own threads and OpenCV releases the GIL while it warps, so drawing
frame n+1 while frame n is encoded uses the cores that would otherwise wait. The queue
is short, so memory stays a few frames whatever the video's length.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetch(items: Iterable[T], depth: int = 3) -> Iterator[T]:
    """Yield ``items`` in order, produced by a worker thread up to ``depth`` ahead.

    An exception in the producer is re-raised in the consumer; a consumer that stops
    early (closes the generator or raises) stops the producer.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(slots, item, stop):
                    return
            _put(slots, _DONE, stop)
        except BaseException as error:  # handed to the consumer, which re-raises it
            _put(slots, error, stop)

    worker = threading.Thread(target=produce, name="refvid-frames", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def _put(slots: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            slots.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
