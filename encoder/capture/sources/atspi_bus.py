"""The accessibility bus (AT-SPI2 over D-Bus), spoken with jeepney: no GObject, no pyatspi.

Two things live here, both free of AT-SPI semantics (:mod:`.atspi_tree` has those):

* :func:`find_bus_address`: where the accessibility bus is. ``AT_SPI_BUS_ADDRESS`` when set,
  else ``org.a11y.Bus.GetAddress`` on the session bus (which starts ``at-spi-bus-launcher``
  by D-Bus activation on a desktop), else the ``AT_SPI_BUS`` property of the X root window
  (set by the launcher; how toolkits find the bus when the session bus is not in their
  environment).
* :class:`Bus`: one connection to that bus, one receiving thread (``encoder-atspi-bus``).
  :meth:`Bus.call` may be called from any thread and waits at most its ``timeout``: a reply
  that comes later is dropped on arrival, so an application that never answers costs the
  caller its timeout and nothing else. Signals go to ``on_signal(message)`` on the receiving
  thread, which must only hand them on (the receiving thread also delivers the replies).

Errors: a timeout raises :class:`TimeoutError`, an error reply jeepney's
:class:`~jeepney.wrappers.DBusErrorResponse`, a closed bus :class:`ConnectionError`.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from jeepney import DBusAddress, HeaderFields, MessageType, new_method_call
from jeepney.io.threading import ReceiveStopped, open_dbus_connection
from jeepney.wrappers import DBusErrorResponse

A11Y_BUS = DBusAddress("/org/a11y/bus", "org.a11y.Bus", "org.a11y.Bus")
DBUS = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")


def find_bus_address(environ=None, *, display: str | None = None, timeout: float = 1.0) -> tuple[str, str]:
    """``(address, how)`` of the accessibility bus; raises :class:`LookupError` saying why not.

    ``how`` is ``"AT_SPI_BUS_ADDRESS"``, ``"org.a11y.Bus"`` or ``"X root AT_SPI_BUS"``.
    """
    env = os.environ if environ is None else environ
    if env.get("AT_SPI_BUS_ADDRESS"):
        return env["AT_SPI_BUS_ADDRESS"], "AT_SPI_BUS_ADDRESS"
    reasons = []
    session = env.get("DBUS_SESSION_BUS_ADDRESS")
    if session:
        try:
            return _ask_session_bus(session, timeout), "org.a11y.Bus"
        except (OSError, TimeoutError, DBusErrorResponse, ValueError) as exc:
            reasons.append(f"org.a11y.Bus on the session bus: {exc}")
    else:
        reasons.append("no DBUS_SESSION_BUS_ADDRESS")
    try:
        address = _x_root_property(display or env.get("DISPLAY"))
    except Exception as exc:  # no X server, no python-xlib: only one reason more
        address = None
        reasons.append(f"X root window: {exc!r}")
    else:
        if not address:
            reasons.append("no AT_SPI_BUS property on the X root window")
    if address:
        return address, "X root AT_SPI_BUS"
    raise LookupError("; ".join(reasons))


def _ask_session_bus(address: str, timeout: float) -> str:
    conn = open_dbus_connection(address, auth_timeout=timeout)
    try:
        bus = Bus(conn)
        try:
            return bus.call(A11Y_BUS.bus_name, A11Y_BUS.object_path, A11Y_BUS.interface, "GetAddress",
                            timeout=timeout)[0]
        finally:
            bus.close()
    finally:
        conn.close()


def _x_root_property(display: str | None) -> str | None:
    if not display:
        return None
    from Xlib import X
    from Xlib.display import Display
    disp = Display(display)
    try:
        prop = disp.screen().root.get_full_property(disp.intern_atom("AT_SPI_BUS"), X.AnyPropertyType)
        if prop is None or not prop.value:
            return None
        value = prop.value
        return value.decode() if isinstance(value, bytes) else bytes(value).decode()
    finally:
        disp.close()


class Bus:
    """A D-Bus connection with a receiving thread: calls with deadlines, signals to a callback.

    ``connection`` is an open :class:`jeepney.io.threading.DBusConnection` (``Hello`` done);
    :meth:`open` makes one from an address. :meth:`close` stops the thread and closes it.
    """

    def __init__(self, connection, on_signal=None, *, name: str = "encoder-atspi-bus"):
        self.conn = connection
        self.on_signal = on_signal
        self._replies: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.late_replies = 0      # replies that came after their caller gave up
        self.signals = 0
        self.signal_errors = 0
        self._thread = threading.Thread(target=self._receive, name=name, daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, address: str, on_signal=None, *, timeout: float = 1.0) -> "Bus":
        return cls(open_dbus_connection(address, auth_timeout=timeout), on_signal)

    @property
    def unique_name(self) -> str:
        return self.conn.unique_name

    def call(self, destination: str, path: str, interface: str, method: str, signature: str | None = None,
             body: tuple = (), *, timeout: float = 1.0) -> tuple:
        """Call a method and return the reply's body, waiting at most ``timeout`` seconds."""
        msg = new_method_call(DBusAddress(path, destination, interface), method, signature, body)
        future: Future = Future()
        serial = next(self.conn.outgoing_serial)
        with self._lock:
            if self._closed:
                raise ConnectionError("the accessibility bus connection is closed")
            self._replies[serial] = future
        try:
            self.conn.send(msg, serial=serial)
            reply = future.result(timeout=max(timeout, 0.0))
        except FutureTimeout:
            raise TimeoutError(f"{destination} {path} {interface}.{method}: no reply within "
                               f"{timeout * 1e3:.0f} ms") from None
        finally:
            with self._lock:
                self._replies.pop(serial, None)
        if reply.header.message_type is MessageType.error:
            raise DBusErrorResponse(reply)
        return reply.body

    def add_match(self, rule: str, timeout: float = 1.0) -> None:
        """Ask the bus daemon to route the signals matching ``rule`` (match-rule syntax) here."""
        self.call(DBUS.bus_name, DBUS.object_path, DBUS.interface, "AddMatch", "s", (rule,), timeout=timeout)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.conn.interrupt()
        self._thread.join(5)
        try:
            self.conn.close()
        except OSError:
            pass

    def _receive(self) -> None:
        try:
            while True:
                msg = self.conn.receive()
                kind = msg.header.message_type
                if kind is MessageType.signal:
                    self.signals += 1
                    if self.on_signal is not None:
                        try:
                            self.on_signal(msg)
                        except Exception:   # a malformed event must not end the connection
                            self.signal_errors += 1
                    continue
                serial = msg.header.fields.get(HeaderFields.reply_serial)
                with self._lock:
                    future = self._replies.get(serial)
                if future is None:
                    self.late_replies += 1
                elif not future.done():
                    future.set_result(msg)
        except (ReceiveStopped, OSError, EOFError, ValueError):
            pass
        finally:
            with self._lock:
                self._closed = True
                waiting = list(self._replies.values())
            for future in waiting:   # nobody waits the full timeout for a bus that is gone
                if not future.done():
                    future.set_exception(ConnectionError("the accessibility bus connection closed"))


def sender(msg) -> str:
    """The unique bus name that sent ``msg``."""
    return msg.header.fields.get(HeaderFields.sender, "")


def object_path(msg) -> str:
    return msg.header.fields.get(HeaderFields.path, "")


def member(msg) -> tuple[str, str]:
    """``(interface, member)`` of a signal."""
    fields = msg.header.fields
    return fields.get(HeaderFields.interface, ""), fields.get(HeaderFields.member, "")
