"""X11 screen frames: grab only what changed (XDamage), black out excluded windows, add_frame.

Each tick of the frame clock (``fps``):

1. Ask XDamage what was drawn since the last tick (one round trip, :class:`._x11.Damage`).
   Nothing drawn and no window change: the frame is added with ``changed=[]``, which costs
   the encoder nothing (no pixel is read); no pixel is grabbed either.
2. Have the server write the damaged rows into this source's frame buffer, plus any area
   that stopped being excluded since the last frame (it must show its real content again).
   The buffer of each monitor is a MIT-SHM segment and ``ShmGetImage`` writes full-width
   bands at their own offset, so nothing is copied on this side (:class:`._x11.ShmScreen`);
   where MIT-SHM cannot work (a remote display) mss grabs the coalesced rectangles instead.
3. Ask the window source for a barrier (every window mapped or retitled before the grab is
   then known), black out every area that was excluded at any moment from ``t - guard`` to
   now, and hand the frame to :meth:`Recorder.add_frame` with the changed rectangles (damage
   plus the blacked-out areas). Unblacked pixels of an excluded window never leave this
   process's memory.

Without XDamage every tick grabs whole screens (``changed=None``). Screens are the active
RandR monitors, each its own ``screen`` id in the frame stream; coordinates in the other
streams are those of the virtual desktop (the root window).
"""
from __future__ import annotations

import threading
import time

import numpy as np

from ...errors import SourceUnavailableError
from .. import clock as _clock
from ..screen import area, blackout, clip, coalesce
from . import Source
from ._x11 import ConnectionClosed, Damage, ShmScreen, XError, monitors, open_display, quiet_errors, shm_supported

_FULL_FRACTION = 0.6   # grab the whole screen when the damaged boxes cover more than this


class _LayoutChanged(Exception):
    """The grabber was reopened (screen resized); the tick is abandoned, the next grabs all."""


def _mss_class():
    import mss
    return getattr(mss, "MSS", None) or mss.mss   # mss >= 10.2 deprecates mss.mss


class X11Screen(Source):
    """Screen frames of an X display (see the module docstring)."""

    name = "x11-screen"

    def __init__(self, display: str | None = None, *, fps: float = 2.0, damage: bool = True, max_rects: int = 8,
                 shm: bool = True):
        if not 0 < fps <= 120:
            raise ValueError(f"fps must be in (0, 120], not {fps}")
        self.display_name, self.fps, self.use_damage, self.max_rects = display, float(fps), damage, max_rects
        self.use_shm = shm
        self.counters = {"ticks": 0, "grabbed_frames": 0, "unchanged": 0, "grabs": 0, "grabbed_pixels": 0,
                         "full_grabs": 0, "late_ticks": 0, "paused_ticks": 0, "blackouts": 0, "x_errors": 0,
                         "grab_cpu_s": 0.0, "add_frame_cpu_s": 0.0, "relayouts": 0, "relayouts_in_a_row": 0,
                         "thread_cpu_s": 0.0}
        self._stop = threading.Event()
        self._thread = None
        self._error: BaseException | None = None
        self._black: list = []
        self._need_full = True
        self._generation = -1

    def open(self, recorder) -> None:
        super().open(recorder)
        self.disp = open_display(self.display_name)
        quiet_errors(self.disp, self.counters)
        self.damage = None
        self.damage_note = "off"
        if self.use_damage:
            try:
                self.damage = Damage(self.disp)
                self.damage_note = "XDamage (NonEmpty) + XFixes regions"
            except SourceUnavailableError as exc:
                self.damage_note = f"unavailable: {exc}"
        self._open_grabber()

    def _open_grabber(self) -> None:
        """MIT-SHM straight into the frame buffers; mss (one copy more per grab) otherwise."""
        self.shm, self.grabber = None, None
        reason = shm_supported(self.disp) if self.use_shm else "disabled"
        if reason is None:
            made = []
            try:
                for x, y, w, h in monitors(self.disp):
                    made.append(ShmScreen(self.disp, x, y, w, h))
                self.shm = made
            except SourceUnavailableError as exc:
                for screen in made:
                    screen.close()
                reason = str(exc)
        if self.shm is not None:
            self.screens = [(i, s.x, s.y, s.width, s.height) for i, s in enumerate(self.shm)]
            self.buffers = [s.image for s in self.shm]
            self.grab_note = "MIT-SHM ShmGetImage of full-width bands into the frame buffer"
        else:
            try:
                self.grabber = _mss_class()(display=self.disp.get_display_name())
            except Exception as exc:
                raise SourceUnavailableError(f"cannot grab display {self.disp.get_display_name()!r}: "
                                             f"MIT-SHM: {reason}; mss: {exc}") from None
            monitors_ = self.grabber.monitors
            chosen = monitors_[1:] or monitors_[:1]
            self.screens = [(i, m["left"], m["top"], m["width"], m["height"]) for i, m in enumerate(chosen)]
            self.buffers = [np.zeros((h, w, 4), np.uint8) for _, _, _, w, h in self.screens]
            self.grab_note = f"mss {type(self.grabber).__name__} (MIT-SHM here: {reason})"
        self._need_full = True

    def _close_grabber(self) -> None:
        for screen in self.shm or ():
            screen.close()
        if self.grabber is not None:
            try:
                self.grabber.close()
            except Exception:
                pass
        self.shm, self.grabber = None, None

    def describe(self) -> dict:
        return {
            "screens": [{"id": i, "x": x, "y": y, "width": w, "height": h} for i, x, y, w, h in self.screens],
            "fps": self.fps, "pixel_format": "bgra", "damage": self.damage_note, "grab": self.grab_note,
        }

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="encoder-x11-screen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(30)
            self._thread = None
        if getattr(self, "disp", None) is None:
            return
        for close in ((self.damage.close if self.damage is not None else None), self._close_grabber,
                      self.disp.close):
            try:
                if close is not None:
                    close()
            except Exception:
                pass
        self.disp = None
        if self._error is not None:
            raise self._error

    def stats(self) -> dict:
        out = dict(self.counters)
        for key in ("grab_cpu_s", "add_frame_cpu_s", "thread_cpu_s"):
            out[key] = round(out[key], 3)
        return out

    # -- the frame thread -------------------------------------------------------------------
    def _run(self) -> None:
        period = 1.0 / self.fps
        due = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    self._tick()
                    self.counters["relayouts_in_a_row"] = 0
                except _LayoutChanged:
                    pass
                self.counters["thread_cpu_s"] = time.thread_time()
                due += period
                now = time.monotonic()
                if now > due:  # the tick overran: skip the missed ticks, and say so
                    missed = int((now - due) / period) + 1
                    self.counters["late_ticks"] += missed
                    due += missed * period
                self._stop.wait(due - now)
        except (ConnectionClosed, OSError) as exc:
            self.fail(SourceUnavailableError(f"lost the X connection: {exc}"))
        except BaseException as exc:
            self.fail(exc)

    def _tick(self) -> None:
        rec = self.recorder
        self.counters["ticks"] += 1
        if rec.poll_pause_file():
            self.counters["paused_ticks"] += 1
            self._need_full = True
            return
        t = _clock.now_us()
        cpu0 = time.thread_time()
        damaged = self.damage.take() if self.damage is not None else None
        generation = rec.timeline.generation
        if self._need_full or damaged is None:
            damaged = None
        elif not damaged and generation == self._generation:
            for index, *_ in self.screens:  # unchanged: a frame row that costs nothing
                if not rec.add_frame(t, self.buffers[index], index, []):
                    self._need_full = True
            self.counters["unchanged"] += 1
            self.counters["grab_cpu_s"] += time.thread_time() - cpu0
            return
        guard = rec.guard_us
        known = set(rec.timeline.excluded_rects(t - guard, _clock.now_us()))
        uncover = [r for r in self._black if r not in known]
        changed = self._grab(None if damaged is None else damaged + uncover)
        rec.barrier()  # every window change made before the grab is now in the timeline
        black = rec.timeline.excluded_rects(t - guard, _clock.now_us())
        full = damaged is None
        for index, left, top, width, height in self.screens:
            hit = blackout(self.buffers[index], black, left, top)
            if hit:
                self.counters["blackouts"] += 1
            if not full:
                for r in list(black) + list(self._black):
                    c = clip(r, left, top, width, height)
                    if c is not None:
                        changed[index].append(c)
        self._black = list(black)
        self._generation = generation
        cpu1 = time.thread_time()
        self.counters["grab_cpu_s"] += cpu1 - cpu0
        written = True
        for index, *_ in self.screens:
            written &= rec.add_frame(t, self.buffers[index], index, None if full else changed[index])
        self.counters["add_frame_cpu_s"] += time.thread_time() - cpu1
        self._need_full = not written
        self.counters["grabbed_frames"] += 1

    def _grab(self, rects):
        """Grab ``rects`` (desktop coordinates; None: everything) into the screen buffers.

        Returns, per screen, the rectangles rewritten (screen coordinates): with MIT-SHM the
        full-width bands holding the rectangles, with mss the coalesced rectangles.
        """
        changed = {index: [] for index, *_ in self.screens}
        for index, left, top, width, height in self.screens:
            if rects is None:
                boxes = None
            else:
                boxes = [c for c in (clip(r, left, top, width, height) for r in rects) if c is not None]
                if not boxes:
                    continue
            if self.shm is not None:
                bands = [(0, height)] if boxes is None else _bands(boxes, height)
                if sum(h for _, h in bands) > _FULL_FRACTION * height:
                    bands = [(0, height)]
                if bands == [(0, height)]:
                    self.counters["full_grabs"] += 1
                try:
                    self.shm[index].grab_rows(bands)
                except XError as exc:  # BadMatch: the screen shrank under us
                    self._relayout(exc)
                self.counters["grabs"] += len(bands)
                self.counters["grabbed_pixels"] += width * sum(h for _, h in bands)
                changed[index] = [(0, y, width, h) for y, h in bands]
                continue
            if boxes is not None:
                boxes = coalesce(boxes, self.max_rects)
                if area(boxes) > _FULL_FRACTION * width * height:
                    boxes = None
            if boxes is None:
                boxes = [(0, 0, width, height)]
                self.counters["full_grabs"] += 1
            buf = self.buffers[index]
            for x, y, w, h in boxes:
                shot = self._grab_one({"left": left + x, "top": top + y, "width": w, "height": h})
                buf[y:y + h, x:x + w] = np.frombuffer(shot.raw, np.uint8).reshape(h, w, 4)
                self.counters["grabs"] += 1
                self.counters["grabbed_pixels"] += w * h
            changed[index] = list(boxes)
        return changed

    def _grab_one(self, monitor):
        try:
            return self.grabber.grab(monitor)
        except (XError, ConnectionClosed):
            raise
        except Exception as first:
            self._relayout(first)

    def _relayout(self, cause: BaseException):
        """The screen may have been resized: reopen (new monitors, new buffers) and let the
        next tick grab everything; a second failure in a row is an error."""
        if self.counters.get("relayouts_in_a_row", 0):
            raise SourceUnavailableError(f"screen grab failed twice: {cause}") from cause
        self._close_grabber()
        self._open_grabber()
        self.counters["relayouts_in_a_row"] = 1
        self.counters["relayouts"] = self.counters.get("relayouts", 0) + 1
        raise _LayoutChanged() from cause


def _bands(boxes, height: int, gap: int = 16) -> list[tuple[int, int]]:
    """Row spans ``(y, rows)`` covering ``boxes``, spans closer than ``gap`` rows merged.

    >>> _bands([(5, 10, 3, 4), (900, 12, 9, 9), (0, 60, 5, 5)], 100)
    [(10, 11), (60, 5)]
    """
    spans = sorted((y, min(y + h, height)) for _, y, _, h in boxes)
    out = []
    for y0, y1 in spans:
        if out and y0 <= out[-1][1] + gap:
            out[-1][1] = max(out[-1][1], y1)
        else:
            out.append([y0, y1])
    return [(y0, y1 - y0) for y0, y1 in out]
