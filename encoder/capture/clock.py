"""The session clock, and the mapping of X server timestamps onto it.

Every row a recorder writes carries ``t``: int64 microseconds of ``CLOCK_MONOTONIC``
(:func:`time.monotonic_ns` // 1000), the clock that does not jump when the wall clock is set
and that frames, input and focus share. The shard header anchors it to Unix time
(``metadata["clock"]``); shards rotated out of one recording share one anchor, so their
rows line up without any conversion.

X server timestamps are 32-bit milliseconds that wrap every 49.7 days. Xorg and Xvfb take
them from ``CLOCK_MONOTONIC`` too, but nothing in the protocol promises that (nested, remote
and other servers differ), so :class:`ServerClock` learns the offset instead of assuming it:

* it is first calibrated by a round trip (the caller asks the server for a timestamp and
  brackets the request with two readings of the local clock); the offset is the one that
  puts the server's millisecond inside the bracket;
* every event received afterwards bounds it again: an event cannot have happened after it
  was received, so ``received - server_time`` is an upper bound of the offset, and the
  smallest bound seen wins. Events are never mapped after their arrival.

Events can reach the client long after they happened (XRecord buffers them; 200 ms was
seen under Xvfb), which is why the receive time itself is never used as the event's time.
"""
from __future__ import annotations

import threading
import time

_WRAP = 1 << 32
_HALF = 1 << 31


def now_us() -> int:
    """The session clock: ``CLOCK_MONOTONIC`` in integer microseconds."""
    return time.monotonic_ns() // 1000


def anchor() -> dict:
    """The ``clock`` entry of a shard's metadata: the session clock read with the Unix time."""
    # Read the wall clock between two monotonic readings and keep the midpoint: the pair
    # is then off by at most half the (sub-microsecond) gap between the readings.
    a = time.monotonic_ns()
    unix = time.time_ns()
    b = time.monotonic_ns()
    mono_us = (a + b) // 2000
    return {"source": "CLOCK_MONOTONIC", "t0_us": mono_us, "unix_us_at_t0": unix // 1000,
            "unit": "us"}


class ServerClock:
    """Maps 32-bit millisecond server timestamps onto the session clock (microseconds).

    Thread-safe: the input and the window-tracking threads share one instance.

    Examples
    --------
    >>> c = ServerClock()
    >>> c.calibrate(server_ms=5_000, before_us=9_000_100, after_us=9_000_900)
    >>> c.to_us(5_010, received_us=9_200_000)   # arrived 190 ms late: the server stamp wins
    9010100
    >>> w = ServerClock()
    >>> w.to_us(2**32 - 1, received_us=1_000), w.to_us(1, received_us=3_000)  # across the wrap
    (1000, 3000)
    """

    def __init__(self, now=now_us):
        self._now = now
        self._lock = threading.Lock()
        self._offset: int | None = None   # session_us - server_ms * 1000 (server time unfolded)
        self._last_ms: int | None = None  # last raw 32-bit stamp seen
        self._epoch = 0                   # wraps seen, times 2**32
        self.corrections = 0              # times an event lowered the offset (drift or late calibration)

    @property
    def offset_us(self) -> int | None:
        return self._offset

    def _unfold(self, server_ms: int) -> int:
        """The 32-bit stamp as a 64-bit count of ms, continuing from the last one seen."""
        server_ms &= _WRAP - 1
        if self._last_ms is not None:
            step = (server_ms - self._last_ms) % _WRAP
            if step < _HALF:        # forwards (possibly across the wrap)
                if server_ms < self._last_ms:
                    self._epoch += _WRAP
                self._last_ms = server_ms
                return self._epoch + server_ms
            # backwards (an older event arriving late): no new epoch
            base = self._epoch - (_WRAP if server_ms > self._last_ms else 0)
            return base + server_ms
        self._last_ms = server_ms
        return self._epoch + server_ms

    def calibrate(self, server_ms: int, before_us: int, after_us: int) -> None:
        """Anchor the offset with a server stamp taken between two local readings."""
        with self._lock:
            unfolded = self._unfold(server_ms)
            # The server read its clock somewhere in [before, after]; its millisecond covers
            # [ms, ms + 1): the earliest consistent placement is the bracket's start.
            offset = before_us - unfolded * 1000
            if self._offset is None or offset < self._offset:
                self._offset = offset

    def to_us(self, server_ms: int, received_us: int | None = None) -> int:
        """Session time of a server stamp; ``received_us`` (when the event arrived) bounds it."""
        with self._lock:
            unfolded = self._unfold(server_ms)
            if received_us is None:
                received_us = self._now()
            bound = received_us - unfolded * 1000
            if self._offset is None:
                self._offset = bound
            elif bound < self._offset:
                self._offset = bound
                self.corrections += 1
            return unfolded * 1000 + self._offset
