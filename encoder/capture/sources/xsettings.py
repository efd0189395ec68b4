"""The platform's double-click settings, read from XSETTINGS (the ``platform`` shard metadata).

The XSETTINGS protocol (https://specifications.freedesktop.org/xsettings-spec/, version 0.5):
a settings manager (gnome-settings-daemon, xfsettingsd, xsettingsd, ...) owns the selection
``_XSETTINGS_S<screen>`` and keeps every setting in the property ``_XSETTINGS_SETTINGS`` of the
owner window, format 8, laid out as::

    CARD8 byte-order (LSBFirst 0, MSBFirst 1), 3 unused, CARD32 serial, CARD32 N settings
    N times: CARD8 type (0 integer, 1 string, 2 color), 1 unused, CARD16 name length n,
             name, pad(n) unused, CARD32 last-change serial, then the value:
             integer: INT32; string: CARD32 length m, m bytes, pad(m) unused;
             color: CARD16 red, green, blue, alpha

Toolkits take their double-click time and distance from the registered settings
``Net/DoubleClickTime`` (ms) and ``Net/DoubleClickDistance`` (px); GTK maps them onto its
``gtk-double-click-time`` and ``gtk-double-click-distance`` (defaults 400 ms and 5 px, the
defaults of :class:`encoder.actions.Rules`).

:func:`parse_xsettings` is pure Python and trusts nothing: every length is checked against the
bytes left, a malformed property ends the parse where it breaks and is reported in
``problems``, never raised. :func:`read_xsettings` asks an X server (python-xlib);
:class:`XSettings` is the capture source that stores the result in the shard metadata.
"""
from __future__ import annotations

import struct

from . import Source

#: The registered settings the recorder stores, with the metadata key and the plausible range.
DOUBLE_CLICK = {"Net/DoubleClickTime": ("double_click_ms", 1, 10_000),
                "Net/DoubleClickDistance": ("double_click_px", 0, 1_000)}
_ORDERS = {0: "<", 1: ">"}            # LSBFirst, MSBFirst (X protocol byte orders)
_TYPES = ("integer", "string", "color")


def _pad(n: int) -> int:
    """Unused bytes after ``n`` bytes, up to a multiple of 4."""
    return -n % 4


def parse_xsettings(data: bytes) -> dict:
    """The settings in an ``_XSETTINGS_SETTINGS`` property.

    Parameters
    ----------
    data : bytes
        The property's bytes, as the settings manager wrote them.

    Returns
    -------
    dict
        ``{"serial": int or None, "settings": {name: value}, "problems": [str]}``. A value is an
        ``int`` (integer setting), a ``str`` (string, UTF-8, undecodable bytes replaced) or a
        tuple ``(red, green, blue, alpha)`` of 16-bit channels (color). A setting that does not
        fit the bytes left, or whose type is unknown, ends the parse: the settings before it
        are kept and ``problems`` says where it broke. Nothing is raised and nothing is
        allocated from a declared length before it is checked against the bytes present.

    Examples
    --------
    >>> import struct
    >>> name = b"Net/DoubleClickTime"
    >>> data = (struct.pack("<B3xII", 0, 7, 1) + struct.pack("<BxH", 0, len(name)) + name + b"\\0"
    ...         + struct.pack("<Ii", 3, 250))
    >>> parse_xsettings(data)
    {'serial': 7, 'settings': {'Net/DoubleClickTime': 250}, 'problems': []}
    >>> parse_xsettings(data[:30])["problems"]
    ['setting 1 of 1 at byte 12: truncated (30 bytes in all)']
    """
    data = bytes(data)
    out: dict = {"serial": None, "settings": {}, "problems": []}
    problems = out["problems"]
    if len(data) < 12:
        problems.append(f"header truncated: {len(data)} of 12 bytes")
        return out
    order = _ORDERS.get(data[0])
    if order is None:
        problems.append(f"unknown byte order {data[0]} (LSBFirst 0 or MSBFirst 1)")
        return out
    out["serial"], count = struct.unpack_from(order + "II", data, 4)
    pos, end = 12, len(data)
    # `count` is never trusted: every setting takes at least 12 bytes, so the loop ends with the data
    for index in range(count):
        start = pos
        where = f"setting {index + 1} of {count} at byte {start}"
        try:
            kind, name_len = struct.unpack_from(order + "BxH", data, pos)
            pos += 4
            if kind >= len(_TYPES):
                problems.append(f"{where}: unknown type {kind}")
                return out
            if pos + name_len + _pad(name_len) + 4 > end:
                raise struct.error
            name = data[pos:pos + name_len].decode("ascii", "replace")
            pos += name_len + _pad(name_len) + 4          # the name, its padding, last-change serial
            if kind == 0:
                (value,) = struct.unpack_from(order + "i", data, pos)
                pos += 4
            elif kind == 1:
                (value_len,) = struct.unpack_from(order + "I", data, pos)
                pos += 4
                if pos + value_len + _pad(value_len) > end:
                    raise struct.error
                value = data[pos:pos + value_len].decode("utf-8", "replace")
                pos += value_len + _pad(value_len)
            else:
                value = struct.unpack_from(order + "4H", data, pos)
                pos += 8
        except struct.error:
            problems.append(f"{where}: truncated ({end} bytes in all)")
            return out
        out["settings"][name] = value
    if pos < end:
        problems.append(f"{end - pos} bytes after the {count} settings ignored")
    return out


def platform_entry(parsed: dict | None) -> dict:
    """The ``platform`` shard metadata from :func:`parse_xsettings`'s result (None: no manager).

    ``double_click_ms`` and ``double_click_px`` are stored when the manager sets them to an
    integer in a plausible range (1-10,000 ms, 0-1,000 px); ``source`` is ``"xsettings"`` when
    at least one was, else ``"defaults"`` (readers then use their own defaults); ``problems``
    lists what was malformed or ignored, when anything was.

    Examples
    --------
    >>> platform_entry({"settings": {"Net/DoubleClickTime": 250, "Net/DoubleClickDistance": 8}, "problems": []})
    {'double_click_ms': 250, 'double_click_px': 8, 'source': 'xsettings'}
    >>> platform_entry(None)
    {'source': 'defaults'}
    >>> platform_entry({"settings": {"Net/DoubleClickTime": "fast"}, "problems": []})
    {'source': 'defaults', 'problems': ["Net/DoubleClickTime 'fast' is not an integer in 1..10000: ignored"]}
    """
    entry: dict = {}
    problems = list((parsed or {}).get("problems", ()))
    settings = (parsed or {}).get("settings", {})
    for name, (key, low, high) in DOUBLE_CLICK.items():
        if name not in settings:
            continue
        value = settings[name]
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            entry[key] = value
        else:
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."  # a string can be long
            problems.append(f"{name} {shown} is not an integer in {low}..{high}: ignored")
    entry["source"] = "xsettings" if entry else "defaults"
    if problems:
        entry["problems"] = problems
    return entry


def read_xsettings(disp, screen: int | None = None) -> dict | None:
    """The settings of ``screen``'s XSETTINGS manager, read over the python-xlib connection ``disp``.

    Returns :func:`parse_xsettings`'s result with the manager's window id under ``owner``, or
    None when no manager owns ``_XSETTINGS_S<screen>`` (default: the display's default screen).
    A manager that vanishes before its property is read, or a property that is missing or not
    of format 8, gives an empty result whose ``problems`` say so.
    """
    from Xlib import X, error

    if screen is None:
        screen = disp.get_default_screen()
    owner = disp.get_selection_owner(disp.intern_atom(f"_XSETTINGS_S{screen}"))
    owner_id = getattr(owner, "id", owner)
    if not owner_id:            # X.NONE: no settings manager runs
        return None
    out: dict = {"serial": None, "settings": {}, "problems": []}
    try:
        prop = owner.get_full_property(disp.intern_atom("_XSETTINGS_SETTINGS"), X.AnyPropertyType)
    except error.XError as exc:  # the manager exited between the two requests
        prop, out["problems"] = None, [f"reading _XSETTINGS_SETTINGS of window {owner_id:#x} failed: {exc}"]
    if prop is not None:
        if prop.format == 8 and isinstance(prop.value, (bytes, bytearray, str)):
            value = prop.value.encode("latin-1") if isinstance(prop.value, str) else prop.value
            out = parse_xsettings(value)
        else:
            out["problems"] = [f"_XSETTINGS_SETTINGS has format {prop.format}, not 8"]
    elif not out["problems"]:
        out["problems"] = [f"the manager's window {owner_id:#x} has no _XSETTINGS_SETTINGS"]
    out["owner"] = owner_id
    return out


class XSettings(Source):
    """The capture source of the ``platform`` metadata: the XSETTINGS double-click settings.

    It reads them once, when the recorder opens it (one connection, closed again), and
    produces no rows. :meth:`describe` gives ``{"platform": platform_entry(...)}``, which the
    recorder also lifts to the metadata's top-level ``platform``. An X error while reading
    is reported in ``problems``, never raised: the recording goes on without the settings.
    """

    name = "x11-xsettings"

    def __init__(self, display: str | None = None):
        self.display_name = display
        self.platform: dict = {"source": "defaults"}

    def open(self, recorder) -> None:
        super().open(recorder)
        from . import _x11
        disp = _x11.open_display(self.display_name)
        try:
            self.platform = platform_entry(read_xsettings(disp))
        except (_x11.XError, _x11.ConnectionClosed) as exc:  # optional metadata: never stop a recording
            self.platform = {"source": "defaults", "problems": [f"reading XSETTINGS failed: {exc!r}"]}
        finally:
            disp.close()

    def describe(self) -> dict:
        return {"platform": dict(self.platform)}


__all__ = ["DOUBLE_CLICK", "XSettings", "parse_xsettings", "platform_entry", "read_xsettings"]
