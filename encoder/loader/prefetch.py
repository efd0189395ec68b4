"""Bounded read-ahead: samples built on a thread while the consumer works on earlier ones.

The producer thread runs an iterator of ``(position, item)`` and queues the items until
the bytes of the queued arrays reach ``budget`` (an item larger than the budget is still
queued when the queue is empty, so memory stays below ``budget + one item``). Building a
sample spends most of its time in zstd and Numba kernels that release the GIL, so the
thread overlaps real work with the consumer (a DataLoader worker sending the previous batch,
a training step in a plain loop). An exception in the producer is raised in the consumer at
the place of the item that failed; closing the iterator stops the thread.
"""
from __future__ import annotations

import threading
from collections import deque

from .._deprecation import renamed_arguments, renamed_attribute
from .samples import nbytes


class Prefetcher:
    """Iterate ``items`` (yielding ``(position, item)``) on a thread, ``budget`` bytes ahead."""

    _DONE = object()
    source = renamed_attribute("source", "items")

    @renamed_arguments(source="items")
    def __init__(self, items, budget: int):
        self.items, self.budget = items, budget
        self.queue: deque = deque()
        self.queued = 0          # bytes of the queued items
        self.peak = 0            # most bytes queued at once (a figure for tests and benchmarks)
        self.cond = threading.Condition()
        self.stopped = False
        self.thread = threading.Thread(target=self._produce, name="encoder-prefetch", daemon=True)
        self.thread.start()

    def _produce(self) -> None:
        try:
            for position, item in self.items:
                size = nbytes(item)
                with self.cond:
                    while not self.stopped and self.queue and self.queued + size > self.budget:
                        self.cond.wait()
                    if self.stopped:
                        return
                    self.queue.append((position, item, size))
                    self.queued += size
                    self.peak = max(self.peak, self.queued)
                    self.cond.notify_all()
            end = (self._DONE, None, 0)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            end = (self._DONE, exc, 0)
        with self.cond:
            self.queue.append(end)
            self.cond.notify_all()

    def __iter__(self):
        return self

    def __next__(self):
        with self.cond:
            while not self.queue:
                self.cond.wait()
            position, item, size = self.queue.popleft()
            self.queued -= size
            self.cond.notify_all()
        if position is self._DONE:
            self.queue.appendleft((position, item, size))  # stay finished
            if item is not None:
                raise item
            raise StopIteration
        return position, item

    def close(self) -> None:
        with self.cond:
            self.stopped = True
            self.queue.clear()
            self.queued = 0
            self.cond.notify_all()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout=30)
        close = getattr(self.items, "close", None)
        if close is not None and not self.thread.is_alive():
            close()


__all__ = ["Prefetcher"]
