"""UI elements from the accessibility bus (AT-SPI2): what was clicked, focused, opened in a menu.

Rows of the ``element`` stream: ``event`` ("click", "focus" or "menu"), ``role`` (the AT-SPI
role name: "push button", "menu item", "password text"...), ``name``, ``path`` (the
application, every named ancestor, the name: "gedit > Untitled 1 > File > Save As..."),
``app`` and the element's extents in screen pixels.

* **Clicks**: the recorder hands every input batch to :meth:`AtspiElements.on_input` on the
  input thread, which only queues button presses. The worker looks the element up: an open
  menu's selected item when the click fell on it (its popup is a window of its own), else the
  deepest object under the point (``Component.GetAccessibleAtPoint``, descending from the top-level
  window that holds the point: the active one first, then the one titled like the X focus).
* **Focus**: ``object:state-changed:focused`` events; the element gets a "focus" row, or a
  "menu" row when it is a menu or menu item.
* **Menus**: ``object:state-changed:selected`` of menus and menu items (opening a menu, moving
  through its items with the pointer or the keys): "menu" rows, once per item entered.

Nothing here can delay input: the input thread appends to a bounded queue (full: counted
``lookups_dropped``), one worker thread does every lookup within ``timeout`` seconds (200 ms;
a late answer is dropped; calls without an answer in time are counted ``timeouts``, lookups
that ran out of time ``lookups_timed_out``), and an application that let a call time out is
skipped for 10 s. Without an accessibility bus (or without jeepney) the source
records nothing and says why, once, in the log and in its description.

Privacy, applied on the recorder thread once the windows around the row's time are known
(:meth:`Recorder.put_row <encoder.capture.Recorder.put_row>`): no row while paused, none for
an element of an excluded application or window (the policy's app and title patterns, tried
on the element's application and ancestors' names, and the X windows' verdicts), names and
paths redacted like shell commands. Only names are read, never a text field's contents.
Password fields: a focus change is reported to :attr:`Recorder.field_focus` at once, as
pending, and resolved when the role is known; keys typed while a password field has the
focus are stored as class ``secret`` in every key mode.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque

from .. import clock as _clock
from ..events import BUTTON
from ..policy import EXCLUDED, NORMAL, PENDING, SECRET
from ..redact import redact
from . import Source
from .atspi_tree import MENU_ROLES, STATE_ACTIVE, ElementReader


log = logging.getLogger("encoder.capture")

#: The events asked of the applications (``RegisterEvent``) and the signals routed here.
EVENTS = ("object:state-changed:focused", "object:state-changed:selected", "window:activate",
          "window:deactivate")
MATCH_RULES = ("type='signal',interface='org.a11y.atspi.Event.Object',member='StateChanged',arg0='focused'",
               "type='signal',interface='org.a11y.atspi.Event.Object',member='StateChanged',arg0='selected'",
               "type='signal',interface='org.a11y.atspi.Event.Window',member='Activate'",
               "type='signal',interface='org.a11y.atspi.Event.Window',member='Deactivate'")
REGISTRY_PATH = "/org/a11y/atspi/registry"
_REFOCUS_US = 100_000     # GTK says "focused" twice per change: the same element again this soon is one change
_SCAN_CAP_S = 0.05        # per call while scanning other applications' windows (the active one gets the deadline)
_TOPS_TTL_S = 2.0         # the applications' top-level windows are listed again after this long


class Latency:
    """The durations of the last ``size`` lookups: p50 and p99 in milliseconds."""

    def __init__(self, size: int = 2048):
        self.values: deque = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

    def summary(self) -> dict:
        values = sorted(self.values)
        if not values:
            return {"n": 0}
        pick = lambda q: round(values[min(int(q * len(values)), len(values) - 1)] * 1e3, 2)  # noqa: E731
        return {"n": len(values), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": round(values[-1] * 1e3, 2)}


class AtspiElements(Source):
    """The ``element`` stream from the accessibility bus (see the module docstring).

    Parameters
    ----------
    display : str, optional
        The X display (its root window may name the bus: ``AT_SPI_BUS``).
    timeout : float
        Seconds a lookup may take (every call it makes together).
    bus_address : str, optional
        The accessibility bus (default: found by :func:`.atspi_bus.find_bus_address`).
    environ : mapping, optional
        Where ``AT_SPI_BUS_ADDRESS`` and ``DBUS_SESSION_BUS_ADDRESS`` are read (default ``os.environ``).
    queue : int
        Lookups waiting at most; more are counted ``lookups_dropped``.
    call : callable, optional
        Ask this instead of a bus (``call(bus, path, interface, method, signature, body, timeout)``,
        e.g. :func:`.atspi_tree.fake_call`); events then come only through :meth:`on_event`.
    """

    name = "atspi-elements"

    def __init__(self, display: str | None = None, *, timeout: float = 0.2, bus_address: str | None = None,
                 environ=None, queue: int = 256, call=None):
        self.display_name, self.timeout, self.bus_address, self.environ = display, timeout, bus_address, environ
        self.call = call
        self.queue_limit = queue
        self.bus = None
        self.how = None
        self.unavailable: str | None = None
        self.counters = {"click": 0, "focus": 0, "menu": 0, "clicks_unresolved": 0, "lookups_dropped": 0,
                         "lookups_timed_out": 0, "errors": 0, "stored": 0, "excluded": 0, "paused": 0, "redacted": 0,
                         "password_focus": 0, "events": 0}
        self.latency = {"click": Latency(), "focus": Latency(), "menu": Latency()}
        self._jobs: deque = deque()
        self._cond = threading.Condition()
        self._stop = False
        self._drain_until = 0.0
        self._thread = None
        self._focused = (None, 0)           # (ref, t) of the element that has the focus
        self._active = None                 # the top-level window the last window:activate named
        self._menu = None                   # [element, t selected, t closed or None]: the open menu's item
        self._tops: list = []
        self._tops_at = -1e9

    # -- Source ---------------------------------------------------------------------------
    def open(self, recorder) -> None:
        super().open(recorder)
        self.policy = recorder.policy
        if self.call is not None:   # a given tree (tests): no bus, events come through on_event
            self.how = "given"
            return self._listen(self.call)
        try:
            from .atspi_bus import Bus, find_bus_address
        except ImportError as exc:
            return self._without(f"jeepney is not installed ({exc}): pip install 'hci-encoder[capture]'")
        address, self.how = self.bus_address, "given"
        if address is None:
            try:
                address, self.how = find_bus_address(self.environ, display=self.display_name)
            except LookupError as exc:
                return self._without(f"no accessibility bus: {exc}")
        try:
            self.bus = Bus.open(address, self._on_signal)
            for rule in MATCH_RULES:
                self.bus.add_match(rule)
            for event in EVENTS:
                self._register(event)
        except (OSError, TimeoutError, ValueError, ConnectionError) as exc:
            self._close_bus()
            return self._without(f"the accessibility bus at {address} did not answer: {exc!r}")
        except Exception as exc:   # an error reply (DBusErrorResponse)
            self._close_bus()
            return self._without(f"the accessibility registry refused the events: {exc}")
        self._listen(self._call)

    def _listen(self, call) -> None:
        self.reader = ElementReader(call)
        listeners = getattr(self.recorder, "input_listeners", None)
        if listeners is not None:
            listeners.append(self.on_input)

    def _register(self, event: str) -> None:
        """``RegisterEvent``: applications emit only the events someone registered for."""
        try:   # at-spi2-core >= 2.36: (event, properties, application)
            self.bus.call("org.a11y.atspi.Registry", REGISTRY_PATH, "org.a11y.atspi.Registry", "RegisterEvent",
                          "sass", (event, [], ""))
        except (TimeoutError, ConnectionError):
            raise
        except Exception:   # older registries take the event name alone
            self.bus.call("org.a11y.atspi.Registry", REGISTRY_PATH, "org.a11y.atspi.Registry", "RegisterEvent",
                          "s", (event,))

    def _without(self, reason: str) -> None:
        self.unavailable = reason
        log.warning("encoder record: UI elements are not recorded: %s", reason)

    def _call(self, bus, path, interface, method, signature, body, timeout):
        return self.bus.call(bus, path, interface, method, signature, body, timeout=timeout)

    def describe(self) -> dict:
        info = {"stream": "element", "events": list(EVENTS), "timeout_ms": round(self.timeout * 1e3)}
        if self.unavailable is not None:
            return dict(info, available=False, reason=self.unavailable)
        return dict(info, available=True, bus=self.how, redaction="encoder.capture.redact (as shell commands)")

    def start(self) -> None:
        if self.unavailable is not None:
            return
        self._thread = threading.Thread(target=self._run, name="encoder-atspi", daemon=True)
        self._thread.start()

    def stop(self, drain_s: float = 2.0) -> None:
        """Finish the lookups queued so far (for at most ``drain_s``), then close the bus."""
        listeners = getattr(getattr(self, "recorder", None), "input_listeners", None)
        if listeners is not None and self.on_input in listeners:
            listeners.remove(self.on_input)
        if self._thread is not None:
            with self._cond:
                self._stop = True
                self._drain_until = time.monotonic() + drain_s
                self._cond.notify()
            self._thread.join(drain_s + self.timeout + 1)
            self._thread = None
        self._close_bus()

    def _close_bus(self) -> None:
        if self.bus is not None:
            self.bus.close()
            self.bus = None

    def stats(self) -> dict:
        out = dict(self.counters, available=self.unavailable is None, queued=len(self._jobs))
        reader = getattr(self, "reader", None)
        if reader is not None:
            out.update({f"calls_{k}": v for k, v in reader.counters.items()})
            out["timeouts"] = reader.counters["timeouts"]   # calls that got no answer in time
        out["latency"] = {kind: lat.summary() for kind, lat in self.latency.items()}
        return out

    # -- producers: the input thread and the bus thread (only queue work) ------------------
    def on_input(self, events) -> None:
        """An input batch (the input thread): queue a lookup per button press."""
        for e in events:
            if e[0] == BUTTON and e[3]:
                self._submit(("click", e[1], e[4], e[5]))

    def _submit(self, job) -> None:
        with self._cond:
            if len(self._jobs) >= self.queue_limit or self._stop:
                self.counters["lookups_dropped"] += 1
                return
            self._jobs.append(job)
            self._cond.notify()

    def _on_signal(self, msg) -> None:
        """A signal (the bus thread): hand it to :meth:`on_event`."""
        from .atspi_bus import member, object_path, sender
        self.on_event(member(msg)[1], (sender(msg), object_path(msg)), msg.body)

    def on_event(self, member: str, ref, body, now: int | None = None) -> None:
        """An AT-SPI event (``StateChanged``, ``Activate``, ``Deactivate``) of object ``ref``:
        note what changed and queue the lookup (never waits on an application)."""
        now = _clock.now_us() if now is None else now
        self.counters["events"] += 1
        if member == "StateChanged" and len(body) >= 2:
            detail, on = body[0], bool(body[1])
            if detail == "focused":
                self._focus_event(now, ref, on)
            elif detail == "selected" and on:
                self._submit(("selected", now, ref))
        elif member == "Activate":
            self._active = ref
        elif member == "Deactivate" and self._active == ref:
            self._active = None

    def _focus_event(self, now: int, ref, on: bool) -> None:
        fields = getattr(self.recorder, "field_focus", None)
        focused, since = self._focused
        if on:
            if ref == focused and now - since < _REFOCUS_US:
                return
            self._focused = (ref, now)
            entry = fields.set(now, PENDING) if fields is not None else None
            self._submit(("focus", now, ref, entry))
        elif ref == focused:
            self._focused = (None, now)
            if fields is not None:
                fields.set(now, NORMAL)

    # -- the worker -------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stop:
                    self._cond.wait()
                if not self._jobs or (self._stop and time.monotonic() > self._drain_until):
                    self.counters["lookups_dropped"] += len(self._jobs)
                    self._jobs.clear()
                    return
                job = self._jobs.popleft()
            start = time.monotonic()
            try:
                getattr(self, "_" + job[0])(*job[1:], deadline=start + self.timeout)
            except TimeoutError:
                self.counters["lookups_timed_out"] += 1
            except Exception:   # an error reply, an object gone (defunct) meanwhile, a closed bus
                self.counters["errors"] += 1
            kind = "menu" if job[0] == "selected" else job[0]
            self.latency[kind].add(time.monotonic() - start)

    def _focus(self, t: int, ref, entry, *, deadline: float) -> None:
        element = self.reader.describe(ref, deadline)
        if entry is not None:
            self.recorder.field_focus.resolve(entry, SECRET if element.password else NORMAL)
        self.counters["password_focus"] += element.password
        if element.role in MENU_ROLES:
            self._menu_entered(t, element)
            return
        if self._menu is not None and self._menu[2] is None:
            self._menu[2] = t             # the focus left the menus: they closed
        self._emit(t, "focus", element)

    def _selected(self, t: int, ref, *, deadline: float) -> None:
        if self._menu is not None and self._menu[0].ref == ref and self._menu[2] is None:
            return                        # already said (GTK selects, then focuses)
        if self.reader.role_name(ref, deadline) not in MENU_ROLES:
            return                        # list rows, tabs...: selection is not navigation
        self._menu_entered(t, self.reader.describe(ref, deadline))

    def _menu_entered(self, t: int, element) -> None:
        if self._menu is not None and self._menu[0].ref == element.ref and self._menu[2] is None:
            return
        self._menu = [element, t, None]
        self._emit(t, "menu", element)

    def _click(self, t: int, x: int, y: int, *, deadline: float) -> None:
        menu = self._menu
        # a menu item under the pointer, selected before the click and not closed before it
        if menu is not None and menu[0].contains(x, y) and menu[1] <= t + 300_000 and \
                (menu[2] is None or menu[2] >= t):
            self._emit(t, "click", menu[0], (x, y))
            return
        for top in self._candidates(deadline):
            cap = None if top == self._active else _SCAN_CAP_S
            try:
                if not _inside(self.reader.extents(top, deadline, cap), x, y):
                    continue
            except TimeoutError:
                if self.clock_left(deadline) <= 0:
                    raise
                continue                   # a hung application: try the next window
            except Exception:
                continue                   # a window gone meanwhile (an error reply)
            target = self.reader.at_point(top, x, y, deadline)
            self._emit(t, "click", self.reader.describe(target, deadline), (x, y))
            return
        self.counters["clicks_unresolved"] += 1   # no accessible window there (an xterm, the desktop)

    @staticmethod
    def clock_left(deadline: float) -> float:
        return deadline - time.monotonic()

    def _candidates(self, deadline: float) -> list:
        """Top-level windows to try for a click: the active one, then those showing, the
        one titled like the X focus first."""
        if time.monotonic() - self._tops_at > _TOPS_TTL_S:
            tops = []
            try:
                apps = self.reader.applications(deadline)
            except TimeoutError:
                apps = []
            for app in apps:
                try:
                    tops.extend(self.reader.children(app, deadline, _SCAN_CAP_S))
                except TimeoutError:
                    if self.clock_left(deadline) <= 0:
                        break
                except Exception:
                    continue
            self._tops, self._tops_at = tops, time.monotonic()
        out = [self._active] if self._active is not None else []
        title = getattr(self.recorder.timeline.focus, "title", None)
        preferred, rest = [], []
        for top in self._tops:
            if top == self._active:
                continue
            try:
                states = self.reader.states(top, deadline, _SCAN_CAP_S)
            except Exception:
                continue
            if not states >> 25 & 1:      # not showing (minimised, withdrawn)
                continue
            if states >> STATE_ACTIVE & 1:
                preferred.insert(0, top)
            elif title and self._name(top, deadline) == title:
                preferred.append(top)
            else:
                rest.append(top)
        return out + preferred + rest

    def _name(self, ref, deadline: float) -> str:
        try:
            return self.reader.name_and_parent(ref, deadline)[0]
        except Exception:
            return ""

    def _emit(self, t: int, event: str, element, point=None) -> None:
        self.counters[event] += 1
        self.recorder.put_row(t, lambda t_us, rows: self._judge(t_us, rows, event, element, point))

    # -- the recorder thread: privacy -------------------------------------------------------
    def _judge(self, t: int, rows: dict, event: str, element, point) -> None:
        rec, policy = self.recorder, self.policy
        if rec.paused_at(t):
            self.counters["paused"] += 1
            return
        timeline = rec.timeline
        if timeline.focus_verdict(t) == EXCLUDED or (point is not None and timeline.excluded_at(*point, t)) or \
                policy.verdict((element.app,), None) == EXCLUDED or \
                any(p.search(n) for p in policy.exclude_titles for n in element.ancestors):
            self.counters["excluded"] += 1
            return
        x, y, w, h = element.extents
        rows.setdefault("element", []).append(
            (t, event, element.role, self._redacted(element.name), self._redacted(element.path),
             element.app, x, y, w, h))
        self.counters["stored"] += 1

    def _redacted(self, text: str):
        text, removed = redact(text)
        self.counters["redacted"] += removed   # how many secrets, never what they were
        return text


def _inside(extents, x: int, y: int) -> bool:
    ex, ey, ew, eh = extents
    return ex <= x < ex + ew and ey <= y < ey + eh
