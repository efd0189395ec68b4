"""python-xlib helpers shared by the X11 sources: connections, clock calibration, window
properties, and the two XFixes region requests python-xlib lacks (CreateRegion and
FetchRegion, for XDamage)."""
from __future__ import annotations

import os
import struct
import time
import warnings

from Xlib import X, Xatom, display, error
from Xlib.protocol import rq

from ...errors import SourceUnavailableError
from .. import clock as _clock
from .x11_raw import RawRequests

XError = error.XError
ConnectionClosed = error.ConnectionClosedError


def open_display(name: str | None):
    """A new connection to ``name`` (default ``$DISPLAY``); :class:`~encoder.errors.SourceUnavailableError`
    when there is none or it cannot be opened."""
    name = name or os.environ.get("DISPLAY")
    if not name:
        raise SourceUnavailableError("no X display: set DISPLAY (or pass --display)")
    with warnings.catch_warnings():
        # python-xlib does not close the socket of a failed connection (unix, then the TCP
        # fallback): it is freed with the traceback at the end of the except clause, here,
        # without a ResourceWarning
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return display.Display(name)
        except (error.DisplayError, error.DisplayConnectionError, ConnectionError, OSError) as exc:
            message = f"cannot open X display {name!r}: {exc}"
    raise SourceUnavailableError(message)


def quiet_errors(disp, counter: dict) -> None:
    """Count asynchronous X errors instead of printing them (windows vanish all the time)."""
    def handler(err, request=None):
        counter["x_errors"] = counter.get("x_errors", 0) + 1
    disp.set_error_handler(handler)


def calibrate(disp, server_clock, rounds: int = 3) -> int:
    """Anchor ``server_clock`` with PropertyNotify round trips; returns the best round trip (us).

    A property change on a private, unmapped window makes the server report its clock
    (the event's ``time``); the local clock is read before the request and after the event.
    """
    root = disp.screen().root
    win = root.create_window(0, 0, 1, 1, 0, X.CopyFromParent, X.InputOnly, X.CopyFromParent,
                             event_mask=X.PropertyChangeMask)
    atom = disp.intern_atom("_ENCODER_CLOCK")
    best = None
    try:
        for _ in range(rounds):
            before = _clock.now_us()
            win.change_property(atom, Xatom.STRING, 8, b"")
            disp.flush()
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                ev = disp.next_event()
                if ev.type == X.PropertyNotify and ev.window.id == win.id:
                    after = _clock.now_us()
                    server_clock.calibrate(ev.time, before, after)
                    if best is None or after - before < best:
                        best = after - before
                    break
    finally:
        win.destroy()
        disp.sync()
    return best if best is not None else -1


class Atoms:
    """Interned atoms by name (cached)."""

    def __init__(self, disp):
        self._disp = disp
        self._cache: dict[str, int] = {}

    def __getattr__(self, name: str) -> int:
        if name.startswith("__"):
            raise AttributeError(name)
        atom = self._cache.get(name)
        if atom is None:
            atom = self._cache[name] = self._disp.intern_atom(name)
        return atom


def text_property(win, atoms: Atoms, names=("_NET_WM_NAME", "WM_NAME")) -> str | None:
    """The window's title (UTF-8 ``_NET_WM_NAME``, else ``WM_NAME``); None when unset."""
    for name in names:
        prop = win.get_full_property(getattr(atoms, name), X.AnyPropertyType)
        if prop is None or prop.value is None:
            continue
        value = prop.value
        if isinstance(value, str):
            return value
        if isinstance(value, (bytes, bytearray)):
            encoding = "utf-8" if name == "_NET_WM_NAME" or prop.property_type == atoms.UTF8_STRING else "latin-1"
            return bytes(value).decode(encoding, "replace")
    return None


def wm_class(win) -> tuple[str, str]:
    """(instance, class) of ``WM_CLASS``, empty strings when unset."""
    try:
        value = win.get_wm_class()
    except (XError, UnicodeDecodeError):
        value = None
    if not value:
        return "", ""
    return value[0] or "", value[1] or ""


# -- XFixes regions (python-xlib implements neither request) --------------------------------
class _CreateRegion(rq.Request):
    _request = rq.Struct(
        rq.Card8("opcode"), rq.Opcode(5), rq.RequestLength(),
        rq.Card32("region"),
        rq.List("rectangles", rq.Struct(rq.Int16("x"), rq.Int16("y"), rq.Card16("width"), rq.Card16("height"))),
    )


class _DestroyRegion(rq.Request):
    _request = rq.Struct(rq.Card8("opcode"), rq.Opcode(10), rq.RequestLength(), rq.Card32("region"))


class _FetchRegion(rq.ReplyRequest):
    _request = rq.Struct(rq.Card8("opcode"), rq.Opcode(19), rq.RequestLength(), rq.Card32("region"))
    _reply = rq.Struct(
        rq.ReplyCode(), rq.Pad(1), rq.Card16("sequence_number"), rq.ReplyLength(),
        rq.Int16("x"), rq.Int16("y"), rq.Card16("width"), rq.Card16("height"),
        rq.Pad(16),
        rq.List("rectangles", rq.Struct(rq.Int16("x"), rq.Int16("y"), rq.Card16("width"), rq.Card16("height"))),
    )


class _QueryVersion(rq.ReplyRequest):
    _request = rq.Struct(rq.Card8("opcode"), rq.Opcode(0), rq.RequestLength(),
                         rq.Card32("major_version"), rq.Card32("minor_version"))
    _reply = rq.Struct(rq.ReplyCode(), rq.Pad(1), rq.Card16("sequence_number"), rq.ReplyLength(),
                       rq.Card32("major_version"), rq.Card32("minor_version"), rq.Pad(16))


DAMAGE_REPORT_NON_EMPTY = 3


class Damage:
    """Accumulated damage of the root window, fetched as rectangles once per frame.

    Level ``NonEmpty``: the server sends one event when the damage stops being empty, not
    one per drawing operation, so a busy screen costs one round trip per frame, no more.
    Raises :class:`~encoder.errors.SourceUnavailableError` when DAMAGE or XFixes 2 is missing.
    """

    def __init__(self, disp):
        self.disp = disp
        d = disp.display
        damage = disp.query_extension("DAMAGE")
        fixes = disp.query_extension("XFIXES")
        if not damage.present or not fixes.present:
            raise SourceUnavailableError("the X server lacks DAMAGE or XFIXES")
        self.damage_op, self.fixes_op = damage.major_opcode, fixes.major_opcode
        self.event_base = damage.first_event
        version = _QueryVersion(display=d, opcode=self.fixes_op, major_version=5, minor_version=0)
        if version.major_version < 2:
            raise SourceUnavailableError("XFixes 2 or later is needed for damage regions")
        disp.damage_query_version()  # python-xlib's DAMAGE requests; the version must be agreed first
        self.root = disp.screen().root
        self.damage = self.root.damage_create(DAMAGE_REPORT_NON_EMPTY)
        self.region = d.allocate_resource_id()
        _CreateRegion(display=d, opcode=self.fixes_op, region=self.region, rectangles=[])
        disp.sync()
        self.raw = RawRequests(disp)
        self._requests = [struct.pack("=BBHIII", self.damage_op, 3, 4, self.damage, X.NONE, self.region),  # Subtract
                          struct.pack("=BBHI", self.fixes_op, 19, 2, self.region)]  # FetchRegion

    def take(self) -> list[tuple[int, int, int, int]]:
        """Rectangles damaged since the previous call (root coordinates), and reset.

        Returns after a round trip, so the server has reset the damage before the caller
        grabs the pixels: whatever is drawn after that is in the next call's answer.
        """
        if self.raw.ready():
            (reply,) = self.raw.exchange(self._requests, [False, True])
            return list(struct.iter_unpack("=hhHH", reply[32:]))
        d = self.disp.display
        self.disp.damage_subtract(self.damage, 0, self.region)
        reply = _FetchRegion(display=d, opcode=self.fixes_op, region=self.region)
        while self.disp.pending_events():  # DamageNotify events: one per non-empty period
            self.disp.next_event()
        return [(r.x, r.y, r.width, r.height) for r in reply.rectangles]

    def close(self) -> None:
        try:
            _DestroyRegion(display=self.disp.display, opcode=self.fixes_op, region=self.region)
            self.disp.flush()
        except (XError, ConnectionClosed, OSError):
            pass


# -- MIT-SHM grabs straight into the frame buffer (python-xlib implements no MIT-SHM) --------
class _ShmQueryVersion(rq.ReplyRequest):
    _request = rq.Struct(rq.Card8("opcode"), rq.Opcode(0), rq.RequestLength())
    _reply = rq.Struct(rq.ReplyCode(), rq.Bool("shared_pixmaps"), rq.Card16("sequence_number"), rq.ReplyLength(),
                       rq.Card16("major_version"), rq.Card16("minor_version"), rq.Card16("uid"), rq.Card16("gid"),
                       rq.Card8("pixmap_format"), rq.Pad(15))


class _ShmAttach(rq.Request):
    _request = rq.Struct(rq.Card8("opcode"), rq.Opcode(1), rq.RequestLength(),
                         rq.Card32("shmseg"), rq.Card32("shmid"), rq.Bool("read_only"), rq.Pad(3))


class _ShmDetach(rq.Request):
    _request = rq.Struct(rq.Card8("opcode"), rq.Opcode(2), rq.RequestLength(), rq.Card32("shmseg"))


class _ShmGetImage(rq.ReplyRequest):
    _request = rq.Struct(rq.Card8("opcode"), rq.Opcode(4), rq.RequestLength(),
                         rq.Drawable("drawable"), rq.Int16("x"), rq.Int16("y"), rq.Card16("width"),
                         rq.Card16("height"), rq.Card32("plane_mask"), rq.Card8("format"), rq.Pad(3),
                         rq.Card32("shmseg"), rq.Card32("offset"))
    _reply = rq.Struct(rq.ReplyCode(), rq.Card8("depth"), rq.Card16("sequence_number"), rq.ReplyLength(),
                       rq.Card32("visual"), rq.Card32("size"), rq.Pad(16))


def _libc():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
    libc.shmget.restype = ctypes.c_int
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmat.restype = ctypes.c_void_p
    libc.shmdt.argtypes = [ctypes.c_void_p]
    libc.shmdt.restype = ctypes.c_int
    libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    libc.shmctl.restype = ctypes.c_int
    return libc


def monitors(disp) -> list[tuple[int, int, int, int]]:
    """(x, y, width, height) of each active monitor (RandR 1.5), else the whole root window."""
    root = disp.screen().root
    try:
        reply = root.xrandr_get_monitors(is_active=True)
        found = [(m.x, m.y, m.width_in_pixels, m.height_in_pixels) for m in reply.monitors
                 if m.width_in_pixels > 0 and m.height_in_pixels > 0]
        if found:
            return found
    except (AttributeError, XError):
        pass
    geo = root.get_geometry()
    return [(0, 0, geo.width, geo.height)]


class ShmScreen:
    """One monitor's frame buffer in a System V shared-memory segment the X server writes into.

    ``image`` (H x W x 4, BGRA as the server stores 24/32-bit pixels) *is* the segment:
    :meth:`grab_rows` has the server copy full-width bands of the monitor straight into
    place (``ShmGetImage`` at the band's byte offset), so a grab costs one round trip and the
    server's memcpy, and no copy at all on this side. The segment is marked for removal as
    soon as both sides are attached, so it cannot outlive the process.
    """

    def __init__(self, disp, x: int, y: int, width: int, height: int):
        import ctypes
        self.disp, self.x, self.y, self.width, self.height = disp, x, y, width, height
        self.size = width * height * 4
        self._libc = _libc()
        self.shmid = self._libc.shmget(0, self.size, 0o1000 | 0o600)   # IPC_PRIVATE, IPC_CREAT | 0600
        if self.shmid < 0:
            raise SourceUnavailableError(f"shmget of {self.size} bytes failed (errno {ctypes.get_errno()})")
        self.addr = self._libc.shmat(self.shmid, None, 0)
        if self.addr in (None, ctypes.c_void_p(-1).value):
            self._libc.shmctl(self.shmid, 0, None)
            raise SourceUnavailableError(f"shmat failed (errno {ctypes.get_errno()})")
        self._buffer = (ctypes.c_uint8 * self.size).from_address(self.addr)
        import numpy as np
        self.image = np.frombuffer(self._buffer, np.uint8).reshape(height, width, 4)
        self.opcode = disp.query_extension("MIT-SHM").major_opcode
        self.shmseg = disp.display.allocate_resource_id()
        catch = error.CatchError()
        _ShmAttach(display=disp.display, onerror=catch, opcode=self.opcode, shmseg=self.shmseg,
                   shmid=self.shmid, read_only=False)
        disp.sync()
        self._libc.shmctl(self.shmid, 0, None)  # IPC_RMID: gone once both sides detach
        if catch.get_error() is not None:
            self._release(server=False)
            raise SourceUnavailableError(f"the X server cannot attach shared memory (remote display?): "
                                         f"{catch.get_error()}")
        self.root = disp.screen().root
        self.raw = RawRequests(disp)

    def grab_rows(self, bands: list[tuple[int, int]]) -> None:
        """Have the server write the bands ``(top, rows)`` of the monitor into ``image``, at once."""
        if self.raw.ready():
            self.raw.exchange([struct.pack("=BBHIhhHHIB3xII", self.opcode, 4, 8, self.root.id, self.x, self.y + top,
                                           self.width, rows, 0xFFFFFFFF, X.ZPixmap, self.shmseg,
                                           top * self.width * 4) for top, rows in bands], [True] * len(bands))
            return
        for top, rows in bands:
            _ShmGetImage(display=self.disp.display, opcode=self.opcode, drawable=self.root, x=self.x,
                         y=self.y + top, width=self.width, height=rows, plane_mask=0xFFFFFFFF, format=X.ZPixmap,
                         shmseg=self.shmseg, offset=top * self.width * 4)

    def _release(self, server: bool = True) -> None:
        if server:
            try:
                _ShmDetach(display=self.disp.display, opcode=self.opcode, shmseg=self.shmseg)
                self.disp.sync()
            except (XError, ConnectionClosed, OSError):
                pass
        self.image = None
        self._buffer = None
        if self.addr is not None:
            self._libc.shmdt(self.addr)
            self.addr = None

    def close(self) -> None:
        self._release()


def shm_supported(disp) -> str | None:
    """None when MIT-SHM grabs into 32-bit ZPixmap buffers work here, else the reason."""
    ext = disp.query_extension("MIT-SHM")
    if not ext.present:
        return "no MIT-SHM extension"
    screen = disp.screen()
    bpp = {f.depth: f.bits_per_pixel for f in disp.display.info.pixmap_formats}.get(screen.root_depth)
    if bpp != 32:
        return f"root depth {screen.root_depth} is stored as {bpp} bits per pixel (not 32)"
    if disp.display.info.image_byte_order != 0:  # LSBFirst: B, G, R, X in memory
        return "the server stores pixels most significant byte first"
    try:
        _ShmQueryVersion(display=disp.display, opcode=ext.major_opcode)
    except XError as exc:
        return f"MIT-SHM QueryVersion failed: {exc}"
    return None
