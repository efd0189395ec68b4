"""X11 input: pointer, buttons, wheel and keys of every client, through the RECORD extension.

XRecord hands over the core device events exactly as the server processed them, each with
the server's own timestamp, so event times do not depend on when Python got to them (the
server buffers recorded data: deliveries 200 ms late were seen under Xvfb). The raw 32-byte
events are decoded with one ``struct`` pass per delivery (no python-xlib event objects: at
1000 events/s that is the difference between 0.1 % and 1.5 % of a core).

Two connections: one receives the recorded data (it blocks inside ``RecordEnableContext``,
whose replies are read straight off its socket), the other looks up keysyms and, at stop,
disables the context; the server then sends everything it still buffers, so no event
captured before :meth:`X11Input.stop` is lost.

Rows produced (see :mod:`encoder.capture.events`): pointer moves; button presses and releases
(buttons 1-3, 8, 9...); buttons 4-7 become scroll steps (4 up: dy=-1, 5 down: dy=+1, 6 left:
dx=-1, 7 right: dx=+1) on the press, their releases carry nothing; key presses and releases
with the keysym the event typed (shift, caps lock, num lock and AltGr applied), the
modifier state (low byte of the X state: Shift 1, Lock 2, Control 4, Mod1/Alt 8, Mod2/NumLock
16, Mod4/Super 64, Mod5/AltGr 128) before the event, and the typed text on presses (none when
Control, Alt or Super is held). The policy decides later what of that is stored.
"""
from __future__ import annotations

import struct
import threading
import time

from Xlib import X
from Xlib.ext import record

from ...errors import SourceUnavailableError
from .. import clock as _clock
from ..events import BUTTON, KEY, POINTER, SCROLL
from ...streams.keys import CONTROL, LOCK, MOD1, MOD2, MOD4, MOD5, SHIFT, keysym_text
from . import Source
from ._x11 import ConnectionClosed, XError, calibrate, open_display, quiet_errors

# type, detail, (sequence), time, (root, event, child), root_x, root_y, (event_x, event_y), state, (same_screen, pad)
_EVENT = struct.Struct("<BB2xI12xhh4xH2x")
_SCROLL = {4: (0, -1), 5: (0, 1), 6: (-1, 0), 7: (1, 0)}
_NO_TEXT = CONTROL | MOD1 | MOD4


class X11Input(Source):
    """Input events of an X display via XRecord (see the module docstring)."""

    name = "x11-input"

    def __init__(self, display: str | None = None):
        self.display_name = display
        self.counters = {"pointer": 0, "button": 0, "scroll": 0, "key": 0, "deliveries": 0, "refused": 0,
                         "hotkeys": 0, "x_errors": 0, "keymap_refreshes": 0, "thread_cpu_s": 0.0}
        self._thread = None
        self._error: BaseException | None = None
        self._swallow: set[int] = set()   # keycodes of hotkey presses whose release is not stored
        self._keysyms: dict[tuple[int, int], int] = {}
        self._started = threading.Event()
        self._next_keymap_check = 0.0
        self._ctl_lock = threading.Lock()   # the control connection is shared with stop()

    def open(self, recorder) -> None:
        super().open(recorder)
        self.ctl = open_display(self.display_name)
        self.data = open_display(self.display_name)
        quiet_errors(self.ctl, self.counters)
        if not self.data.has_extension("RECORD"):
            self.close_displays()
            raise SourceUnavailableError("the X server lacks the RECORD extension (input cannot be recorded)")
        if recorder.server_clock.offset_us is None:
            calibrate(self.ctl, recorder.server_clock)
        self.policy = recorder.policy
        self.context = self.ctl.record_create_context(0, [record.AllClients], [{
            "core_requests": (0, 0), "core_replies": (0, 0),
            "ext_requests": (0, 0, 0, 0), "ext_replies": (0, 0, 0, 0),
            "delivered_events": (0, 0), "device_events": (X.KeyPress, X.MotionNotify),
            "errors": (0, 0), "client_started": False, "client_died": False}])
        self.ctl.sync()

    def describe(self) -> dict:
        return {"display": self.ctl.get_display_name(), "method": "XRecord core device events",
                "scroll": "buttons 4-7 as steps; dy > 0 down, dx > 0 right",
                "modifiers": "X state low byte before the event"}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="encoder-x11-input", daemon=True)
        self._thread.start()
        # RecordEnableContext answers StartOfData once the server records; wait for it so that
        # input from the moment start() returns is captured
        if not self._started.wait(5):
            raise SourceUnavailableError("the X server did not start recording input within 5 s")
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        if self._thread is None:  # opened, never started: just disconnect
            if getattr(self, "ctl", None) is not None:
                self.close_displays()
                self.ctl = self.data = None
            return
        try:
            with self._ctl_lock:
                self.ctl.record_disable_context(self.context)  # the server flushes what it buffers
                self.ctl.flush()
        except (XError, ConnectionClosed, OSError):
            pass
        self._thread.join(10)
        alive = self._thread.is_alive()
        self._thread = None
        try:
            self.ctl.record_free_context(self.context)
            self.ctl.sync()
        except (XError, ConnectionClosed, OSError):
            pass
        if not alive:
            self.close_displays()
        else:  # the server did not end the context: unblock the reader by closing its socket
            try:
                self.data.display.socket.shutdown(2)
            except OSError:
                pass
        if self._error is not None:
            raise self._error

    def close_displays(self) -> None:
        for d in (self.ctl, self.data):
            try:
                d.close()
            except Exception:
                pass

    def stats(self) -> dict:
        return dict(self.counters)

    # -- the recording thread -------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._read_raw()
            self.counters["thread_cpu_s"] = round(time.thread_time(), 3)
        except (ConnectionClosed, OSError) as exc:
            self.fail(SourceUnavailableError(f"lost the X connection: {exc}"))
        except BaseException as exc:
            self.fail(exc)
        finally:
            self._started.set()

    def _read_raw(self) -> None:
        """RecordEnableContext on the data connection, its replies read straight off the socket.

        python-xlib would build a reply object per delivery (~200 us each, most of this
        source's CPU); the replies are simply framed (32-byte header, ``length`` words of
        recorded data), so one ``recv`` takes every delivery waiting and each costs a
        ``struct`` pass. The connection serves nothing else and is closed afterwards.
        """
        conn = self.data.display
        self.data.sync()  # nothing of python-xlib's left in flight on this connection
        order = ">" if conn.big_endian else "<"  # the byte order python-xlib announced at setup
        self._event = struct.Struct(order + _EVENT.format[1:])
        opcode = conn.get_extension_major(record.extname)
        request = struct.pack(order + "BBHI", opcode, 5, 2, self.context)  # RecordEnableContext
        sock = conn.socket
        sock.sendall(request)
        header = struct.Struct(order + "BBHIBBHIII8x")
        buf = bytearray()
        chunk = bytearray(1 << 16)   # reused: no allocation per wake-up
        view = memoryview(chunk)
        while True:
            got = sock.recv_into(chunk)
            if not got:
                raise ConnectionClosed("the X server closed the record connection")
            buf += view[:got]
            pos = 0
            while len(buf) - pos >= 32:
                kind = buf[pos]
                if kind != 1:                 # an error or an event on this connection: skip it
                    if kind == 0:
                        self.counters["x_errors"] += 1
                    pos += 32
                    continue
                _, category, _, length, _, _, _, _, _, _ = header.unpack_from(buf, pos)
                end = pos + 32 + 4 * length
                if end > len(buf):
                    break
                if category == record.FromServer:
                    self._deliver(bytes(buf[pos + 32:end]))
                elif category == record.StartOfData:
                    self._started.set()
                elif category == record.EndOfData:
                    return
                pos = end
            del buf[:pos]

    def _deliver(self, data: bytes) -> None:
        if not data or len(data) % 32:
            return
        now = _clock.now_us()
        if time.monotonic() >= self._next_keymap_check:
            self._check_keymap()
        to_us = self.recorder.server_clock.to_us
        events = []
        counters = self.counters
        for kind, detail, ms, x, y, state in self._event.iter_unpack(data):
            kind &= 0x7f
            t = to_us(ms, now)
            if kind == X.MotionNotify:
                events.append((POINTER, t, x, y))
                counters["pointer"] += 1
            elif kind == X.ButtonPress or kind == X.ButtonRelease:
                step = _SCROLL.get(detail)
                if step is not None:
                    if kind == X.ButtonPress:
                        events.append((SCROLL, t, step[0], step[1], x, y))
                        counters["scroll"] += 1
                else:
                    events.append((BUTTON, t, detail, kind == X.ButtonPress, x, y))
                    counters["button"] += 1
            elif kind == X.KeyPress or kind == X.KeyRelease:
                event = self._key(t, detail, kind == X.KeyPress, state)
                if event is not None:
                    events.append(event)
                    counters["key"] += 1
        counters["deliveries"] += 1
        if events:
            accepted = self.recorder.put(events)
            counters["refused"] += len(events) - accepted

    def _keysym(self, keycode: int, index: int) -> int:
        slot = (keycode, index)   # the keysym in column ``index`` of the keycode's mapping
        sym = self._keysyms.get(slot)
        if sym is None:
            sym = self._keysyms[slot] = self.ctl.keycode_to_keysym(keycode, index)
        return sym

    def _key(self, t: int, keycode: int, pressed: bool, state: int):
        base = self._keysym(keycode, 0)
        if pressed and self.policy.is_hotkey(base, state):
            self._swallow.add(keycode)
            self.counters["hotkeys"] += 1
            self.recorder.hotkey(t)
            return None
        if not pressed and keycode in self._swallow:
            self._swallow.discard(keycode)
            return None
        shift = bool(state & SHIFT)
        if 0xff80 <= base <= 0xffbd and state & MOD2:   # keypad with NumLock: digits unless shifted
            shift = not shift
        index = 1 if shift else 0
        if state & MOD5:  # AltGr / ISO_Level3_Shift: columns 4 and 5 of the core map
            alt = self._keysym(keycode, 4 + index)
            sym = alt or self._keysym(keycode, index) or base
        else:
            sym = self._keysym(keycode, index) or base
        if state & LOCK and 0x61 <= sym <= 0x7a and not state & SHIFT:  # Caps Lock on letters
            sym -= 0x20
        text = keysym_text(sym) if pressed and not state & _NO_TEXT else None
        return (KEY, t, sym, pressed, state & 0xff, text)

    def _check_keymap(self) -> None:
        """Apply keyboard mapping changes (MappingNotify reaches every client; look once a second)."""
        self._next_keymap_check = time.monotonic() + 1.0
        self.counters["thread_cpu_s"] = round(time.thread_time(), 3)   # for the stats, once a second
        try:
            with self._ctl_lock:
                self._refresh_keymap()
        except (XError, ConnectionClosed, OSError):
            pass

    def _refresh_keymap(self) -> None:
        while self.ctl.pending_events():
            ev = self.ctl.next_event()
            if ev.type == X.MappingNotify:
                self.ctl.refresh_keyboard_mapping(ev)
                self._keysyms.clear()
                self.counters["keymap_refreshes"] += 1
