"""X11 windows: which window has the focus (app, title, rect), and where excluded windows are.

One connection, one thread, woken only by X events (no polling):

* the root window's ``SubstructureNotify`` reports top-level windows being mapped, unmapped,
  moved, resized, reparented and destroyed; ``PropertyChange`` on the root reports
  ``_NET_ACTIVE_WINDOW`` (set by EWMH window managers);
* ``PropertyChange`` on each client window reports title (``_NET_WM_NAME``, ``WM_NAME``) and
  ``WM_CLASS`` changes; ``FocusChange`` on each top-level reports the keyboard focus moving
  into it (used when no window manager publishes ``_NET_ACTIVE_WINDOW``, e.g. a bare Xvfb).

Each change is judged by the policy (excluded, secret or normal) and reported to the
recorder: a focus row when the focused window, its title, app or rect change; the set of
excluded rectangles whenever it changes (the screen source blacks them out, pointer events
inside them are dropped).

:meth:`X11Windows.barrier` is how the recorder knows the state is complete: it makes this
thread do a round trip to the server and process every event that arrived before the reply,
then returns the local time at which the round trip began. Every window change the server
made before that moment has then been reported.

Times: property changes carry a server timestamp (mapped with the recorder's
:class:`~encoder.capture.clock.ServerClock`); map, configure and focus events carry none and
are stamped on arrival (milliseconds late at most; the policy's guard covers that).
"""
from __future__ import annotations

import os
import select
import threading

from Xlib import X

from ...errors import SourceUnavailableError
from .. import clock as _clock
from ..windows import NO_WINDOW, WindowInfo
from . import Source
from ._x11 import Atoms, ConnectionClosed, XError, calibrate, open_display, quiet_errors, text_property, wm_class

_TOP_MASK = X.FocusChangeMask          # structure changes come from the root's SubstructureNotify
_CLIENT_MASK = X.PropertyChangeMask
_RESCAN_SECONDS = 30.0   # safety net: a full rescan this often, in case an event was missed


class _Top:
    """A mapped-or-not top-level window (a root child) and the client window inside it."""
    __slots__ = ("id", "client", "instance", "app", "title", "rect", "mapped", "verdict")

    def __init__(self, wid: int):
        self.id, self.client = wid, wid
        self.instance = self.app = ""
        self.title = None
        self.rect = (0, 0, 0, 0)
        self.mapped = False
        self.verdict = "normal"


class X11Windows(Source):
    """Focus and excluded windows of an X display (see the module docstring)."""

    name = "x11-windows"
    is_window_source = True

    def __init__(self, display: str | None = None):
        self.display_name = display
        self.counters = {"focus_changes": 0, "title_changes": 0, "rescans": 0, "barriers": 0,
                         "barriers_reused": 0, "x_errors": 0, "events": 0}
        self._tops: dict[int, _Top] = {}
        self._client_top: dict[int, int] = {}
        self._reported_focus = None   # what the last focus row said (window, app, title, rect...)
        self._focus_top: int | None = None
        self._excluded = ()
        self._thread = None
        self._stop = False
        self._cond = threading.Condition()
        self._requested = 0
        self._done = 0
        self._watermark = 0
        self._error: BaseException | None = None

    # -- Source --------------------------------------------------------------------------
    def open(self, recorder) -> None:
        super().open(recorder)
        self.disp = open_display(self.display_name)
        quiet_errors(self.disp, self.counters)
        self.policy = recorder.policy
        self.root = self.disp.screen().root
        self.atoms = Atoms(self.disp)
        self.rtt_us = calibrate(self.disp, recorder.server_clock)
        self.root.change_attributes(event_mask=X.SubstructureNotifyMask | X.PropertyChangeMask)
        self.ewmh = self._ewmh_active()
        self._rescan(_clock.now_us())
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._last_rescan = _clock.now_us()

    def describe(self) -> dict:
        return {"display": self.disp.get_display_name(), "focus_from": "_NET_ACTIVE_WINDOW" if self.ewmh
                else "input focus (no EWMH window manager)", "clock_round_trip_us": self.rtt_us,
                "server_clock_offset_us": self.recorder.server_clock.offset_us}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="encoder-x11-windows", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:  # opened, never started (another source failed): just disconnect
            if getattr(self, "disp", None) is not None:
                try:
                    self.disp.close()
                except Exception:
                    pass
                self.disp = None
            return
        self._stop = True
        self._poke()
        self._thread.join(5)
        try:
            self.disp.close()
        except Exception:
            pass
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._thread = None
        if self._error is not None:
            raise self._error

    def stats(self) -> dict:
        return dict(self.counters, windows=len(self._tops), excluded_windows=len(self._excluded))

    def barrier(self, timeout: float = 2.0, recent_us: int = 0) -> int:
        """Local time up to which every window change has been reported (see module docstring).

        With ``recent_us``, the answer of a barrier that began at most that long ago is given
        again without a round trip (the screen source asks for one after every grab)."""
        with self._cond:
            if recent_us and self._done >= self._requested and _clock.now_us() - self._watermark <= recent_us:
                self.counters["barriers_reused"] += 1
                return self._watermark
            self._requested += 1
            ticket = self._requested
        self._poke()
        with self._cond:
            self._cond.wait_for(lambda: self._done >= ticket or self._thread is None
                                     or not self._thread.is_alive(), timeout)
            # without an answer (timeout, thread gone) the watermark claims nothing new is known:
            # events keep waiting, none is misjudged
            return self._watermark

    # -- the thread --------------------------------------------------------------------------
    def _poke(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def _run(self) -> None:
        fd = self.disp.fileno()
        try:
            while not self._stop:
                self._drain()
                timeout = max(0.0, _RESCAN_SECONDS - (_clock.now_us() - self._last_rescan) / 1e6)
                readable, _, _ = select.select([fd, self._wake_r], [], [], timeout)
                if self._wake_r in readable:
                    try:
                        os.read(self._wake_r, 4096)
                    except BlockingIOError:
                        pass
                with self._cond:
                    wanted = self._requested
                if wanted > self._done:
                    started = _clock.now_us()
                    self.disp.sync()          # round trip: events sent before the reply are queued
                    self._drain()
                    with self._cond:
                        self._watermark = started
                        self._done = wanted
                        self.counters["barriers"] += 1
                        self._cond.notify_all()
                if (_clock.now_us() - self._last_rescan) / 1e6 >= _RESCAN_SECONDS:
                    self._rescan(_clock.now_us())
        except (ConnectionClosed, OSError) as exc:
            if not self._stop:
                self.fail(SourceUnavailableError(f"lost the X connection: {exc}"))
        except BaseException as exc:  # reported by stop() and to the recorder
            self.fail(exc)
        finally:
            with self._cond:
                self._cond.notify_all()

    def _drain(self) -> None:
        while self.disp.pending_events():
            ev = self.disp.next_event()
            self.counters["events"] += 1
            try:
                self._handle(ev)
            except XError:  # the window went away while we asked about it
                self.counters["x_errors"] += 1

    def _handle(self, ev) -> None:
        now = _clock.now_us()
        kind = ev.type
        if kind == X.PropertyNotify:
            t = self.recorder.server_clock.to_us(ev.time, now)
            if ev.window.id == self.root.id:
                if ev.atom == self.atoms._NET_ACTIVE_WINDOW:
                    self.ewmh = True
                    self._update_focus(t)
                return
            top = self._client_top.get(ev.window.id)
            if top is not None and ev.atom in (self.atoms._NET_WM_NAME, self.atoms.WM_NAME, self.atoms.WM_CLASS):
                self._read_client(self._tops[top])
                self.counters["title_changes"] += 1
                self._publish(t)
            return
        if kind in (X.FocusIn, X.FocusOut):
            if not self.ewmh:
                self._update_focus(now)
            return
        if kind == X.ConfigureNotify:
            top = self._tops.get(ev.window.id)
            if top is not None and ev.event.id == self.root.id:
                bw = ev.border_width
                top.rect = (ev.x, ev.y, ev.width + 2 * bw, ev.height + 2 * bw)
                self._publish(now)
            return
        if kind == X.MapNotify:
            if ev.event.id == self.root.id:
                top = self._tops.get(ev.window.id) or self._add_top(ev.window)
                if top is not None:
                    top.mapped = True
                    self._read_top(top, ev.window)
                    self._publish(now)
            return
        if kind == X.UnmapNotify:
            top = self._tops.get(ev.window.id)
            if top is not None and ev.event.id == self.root.id:
                top.mapped = False
                self._publish(now)
            return
        if kind == X.DestroyNotify:
            top = self._tops.pop(ev.window.id, None)
            if top is not None:
                self._client_top.pop(top.client, None)
                self._publish(now)
            return
        if kind == X.ReparentNotify:
            wid = ev.window.id
            if ev.parent.id == self.root.id:
                self._add_top(ev.window)
            elif wid in self._tops:  # moved into a frame: the frame is the top-level now
                top = self._tops.pop(wid)
                self._client_top.pop(top.client, None)
            # the frame's client changed: find it again
            for top in list(self._tops.values()):
                if top.client == top.id:
                    self._read_top(top, self.disp.create_resource_object("window", top.id))
            self._publish(now)
            return
        if kind == X.CreateNotify and ev.parent.id == self.root.id:
            self._add_top(ev.window)

    # -- window state --------------------------------------------------------------------------
    def _ewmh_active(self) -> bool:
        prop = self.root.get_full_property(self.atoms._NET_ACTIVE_WINDOW, X.AnyPropertyType)
        return prop is not None and prop.value is not None and len(prop.value) > 0

    def _add_top(self, win):
        if win.id in self._tops:
            return self._tops[win.id]
        top = _Top(win.id)
        try:
            win.change_attributes(event_mask=_TOP_MASK)
            attrs = win.get_attributes()
            if attrs.override_redirect:   # menus and tooltips: never focused, not client windows
                return None
            top.mapped = attrs.map_state == X.IsViewable
        except XError:
            return None
        self._tops[win.id] = top
        self._read_top(top, win)
        return top

    def _read_top(self, top: _Top, win) -> None:
        """Geometry, client window, class and title of a top-level."""
        geo = win.get_geometry()
        top.rect = (geo.x, geo.y, geo.width + 2 * geo.border_width, geo.height + 2 * geo.border_width)
        client = self._find_client(win)
        if client != top.client:
            self._client_top.pop(top.client, None)
        top.client = client
        self._client_top[client] = top.id
        client_win = self.disp.create_resource_object("window", client)
        if client != top.id:
            client_win.change_attributes(event_mask=_CLIENT_MASK)
        else:
            win.change_attributes(event_mask=_TOP_MASK | _CLIENT_MASK)
        self._read_client(top)

    def _read_client(self, top: _Top) -> None:
        win = self.disp.create_resource_object("window", top.client)
        top.instance, top.app = wm_class(win)
        top.title = text_property(win, self.atoms)
        top.verdict = self.policy.verdict((top.instance, top.app), top.title)

    def _find_client(self, win, depth: int = 2) -> int:
        """The window holding ``WM_STATE`` (the ICCCM client) in a WM frame; else the window itself.

        Without a window manager nothing has ``WM_STATE`` and the top-level is the client.
        """
        if win.get_full_property(self.atoms.WM_STATE, X.AnyPropertyType) is not None:
            return win.id
        level = [win]
        for _ in range(depth):
            below = []
            for w in level:
                try:
                    children = w.query_tree().children
                except XError:
                    continue
                for child in reversed(children):  # topmost first
                    if child.get_full_property(self.atoms.WM_STATE, X.AnyPropertyType) is not None:
                        return child.id
                    below.append(child)
            level = below
        return win.id

    def _rescan(self, now: int) -> None:
        """Rebuild the window list from scratch (start, and every few seconds as a safety net)."""
        self.counters["rescans"] += 1
        self._last_rescan = now
        try:
            children = self.root.query_tree().children
        except XError:
            return
        seen = set()
        for child in children:
            seen.add(child.id)
            top = self._tops.get(child.id)
            try:
                if top is None:
                    self._add_top(child)
                else:
                    top.mapped = child.get_attributes().map_state == X.IsViewable
                    self._read_top(top, child)
            except XError:
                self._tops.pop(child.id, None)
        for wid in list(self._tops):
            if wid not in seen:
                top = self._tops.pop(wid)
                self._client_top.pop(top.client, None)
        self._update_focus(now, publish=False)
        self._publish(now)

    def _focused_top(self):
        """The top-level holding the focus: ``_NET_ACTIVE_WINDOW`` if published, else the input focus."""
        wid = None
        if self.ewmh:
            prop = self.root.get_full_property(self.atoms._NET_ACTIVE_WINDOW, X.AnyPropertyType)
            if prop is not None and prop.value is not None and len(prop.value):
                wid = int(prop.value[0])
        if not wid:
            focus = self.disp.get_input_focus().focus
            if isinstance(focus, int) or focus is None:  # None or PointerRoot
                return None
            wid = focus.id
        if wid in self._client_top:
            return self._tops.get(self._client_top[wid])
        if wid in self._tops:
            return self._tops[wid]
        # a descendant of a top-level: walk up to the root's child
        win = self.disp.create_resource_object("window", wid)
        for _ in range(32):
            tree = win.query_tree()
            if tree.parent is None or tree.parent.id in (0, self.root.id):
                return self._tops.get(win.id) or self._add_top(win)
            win = tree.parent
        return None

    def _update_focus(self, t: int, publish: bool = True) -> None:
        try:
            top = self._focused_top()
        except XError:
            top = None
        self._focus_top = top.id if top is not None else None
        if publish:
            self._publish(t)

    def _publish(self, t: int) -> None:
        """Report the focus (if it changed) and the excluded areas to the recorder."""
        top = self._tops.get(self._focus_top) if self._focus_top is not None else None
        if top is None:
            info = NO_WINDOW
        else:
            info = WindowInfo(top.client, top.app, top.instance, top.title, top.rect, top.verdict)
        focus = (info.window, info.app, info.instance, info.title, info.rect, info.verdict)
        if focus != self._reported_focus:
            self._reported_focus = focus
            self.counters["focus_changes"] += 1
            self.recorder.focus_changed(t, info)
        excluded = tuple(sorted(t_.rect for t_ in self._tops.values() if t_.mapped and t_.verdict == "excluded"))
        if excluded != self._excluded:
            self._excluded = excluded
            self.recorder.excluded_changed(t, excluded)
