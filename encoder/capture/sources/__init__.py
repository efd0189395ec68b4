"""Capture sources: what feeds a :class:`~encoder.capture.Recorder`.

A source is any object with these methods (the base class :class:`Source` gives no-op
defaults); the recorder calls them in this order:

``open(recorder)``
    Connect (to the X server, say) and learn what :meth:`describe` reports. Raises
    :class:`~encoder.errors.SourceUnavailableError` when the source cannot work here.
``describe() -> dict``
    What goes into the shard metadata under ``recorder.sources[name]``; a ``screens``
    (and a ``platform``) entry is also lifted to the metadata's top level.
``start()`` / ``stop()``
    Start and stop producing (threads of its own). ``stop`` returns once everything the
    source captured has been handed to the recorder.
``stats() -> dict``
    Counters for the recorder's stats (numbers only).

Sources hand their output to the recorder through its sink methods: ``put(events)`` for
input event tuples (:mod:`encoder.capture.events`), ``focus_changed``/``excluded_changed``
for window state, ``hotkey(t)`` for the pause hotkey and ``add_frame`` for screen frames.
A window source also provides ``barrier(recent_us=0) -> t_us``: the time up to which every
window change has been reported (the recorder waits on it before applying the policy); with
``recent_us`` it may answer with a barrier begun at most that long ago, without a new one.

Concrete sources: :mod:`.x11_screen`, :mod:`.x11_input`, :mod:`.x11_focus`, :mod:`.xsettings`
(Linux/X11, need the ``capture`` extra: python-xlib and mss), :mod:`.atspi` (UI elements from the
accessibility bus, with jeepney), :mod:`.shell` (shell commands from the ``encoder shell-hook``
snippets, over a FIFO) and :mod:`.fake` (scripted, for tests).
They are imported only when used, so ``import encoder`` needs none of those packages.
"""
from __future__ import annotations

from ...errors import SourceUnavailableError
from ..._deprecation import renamed_module_attributes

#: ``SourceUnavailable`` is the former name of :class:`~encoder.errors.SourceUnavailableError`.
__getattr__ = renamed_module_attributes(__name__, {"SourceUnavailable": SourceUnavailableError})


class Source:
    """Base class of capture sources (see the module docstring)."""

    name = "source"
    #: Window sources are stopped last: the recorder's final barrier still needs them.
    is_window_source = False

    def open(self, recorder) -> None:
        self.recorder = recorder

    def describe(self) -> dict:
        return {}

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def stats(self) -> dict:
        return {}

    def fail(self, exc: BaseException) -> None:
        """This source's thread died of ``exc``: keep it for ``stop()`` and tell the recorder."""
        self._error = exc
        self.recorder.source_failed(self, exc)


def x11_sources(display: str | None = None, *, fps: float = 2.0, screen: bool = True, input: bool = True,
                windows: bool = True, damage: bool = True, elements: bool = True,
                commands: bool = True) -> list:
    """The Linux/X11 sources for ``display`` (default ``$DISPLAY``), windows first; always
    :class:`~.xsettings.XSettings` too (the platform's double-click settings, read once), and with
    ``elements`` :class:`~.atspi.AtspiElements` (UI elements; records nothing without an accessibility bus),
    with ``commands`` :class:`~.shell.ShellCommands` (what the shell hooks report).

    Raises :class:`~encoder.errors.SourceUnavailableError` naming the missing package when
    python-xlib or mss is not installed (``pip install 'hci-encoder[capture]'``).
    """
    try:
        import Xlib  # noqa: F401
    except ImportError:
        raise SourceUnavailableError("recording X11 needs python-xlib: pip install 'hci-encoder[capture]'") from None
    out = []
    if windows:
        from .x11_focus import X11Windows
        out.append(X11Windows(display))
    if input:
        from .x11_input import X11Input
        out.append(X11Input(display))
    if screen:
        try:
            import mss  # noqa: F401
        except ImportError:
            raise SourceUnavailableError("recording the screen needs mss: pip install 'hci-encoder[capture]'") from None
        from .x11_screen import X11Screen
        out.append(X11Screen(display, fps=fps, damage=damage))
    from .xsettings import XSettings
    out.append(XSettings(display))
    if elements:
        from .atspi import AtspiElements
        out.append(AtspiElements(display))
    if commands:
        from .shell import ShellCommands
        out.append(ShellCommands())
    return out


__all__ = ["Source", "SourceUnavailableError", "x11_sources"]
