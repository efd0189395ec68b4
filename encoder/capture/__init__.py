"""Capture: record a person's screen and input into shards, privately and cheaply.

* :class:`Recorder` feeds :class:`~encoder.ShardWriter` from pluggable sources through a
  bounded queue, on one monotonic clock, applying the privacy :class:`Policy` before
  anything is encoded; :mod:`.rotation` starts a new shard by size or age, :mod:`.stats`
  keeps its counters and stats line.
* :mod:`encoder.capture.sources`: Linux/X11 screen (mss/XShm with XDamage), input (XRecord)
  and windows (EWMH focus, WM_CLASS, titles), plus scripted fakes for tests.
* ``encoder record`` (:mod:`encoder.cli.record`) is the command line.

The X11 sources need ``pip install 'hci-encoder[capture]'`` (python-xlib, mss); this package
imports without them. docs/capture.md has the policy file format, the clock and the
guarantees. Its errors (:class:`PolicyError`, :class:`RecorderError`,
:class:`SourceUnavailableError`) live in :mod:`encoder.errors`.
"""
from ..errors import PolicyError, RecorderError, SourceUnavailableError
from .._deprecation import renamed_module_attributes
from .clock import ServerClock, anchor, now_us
from .events import BUTTON, FOCUS, KEY, MARKER, POINTER, SCROLL, EventQueue
from ..streams.keys import KEY_CLASSES, key_class, keysym_text
from .policy import EXCLUDED, MODES, NORMAL, SECRET, PauseSwitch, Policy
from .recorder import Recorder
from .sources import Source, x11_sources
from .windows import WindowInfo, WindowTimeline

#: ``SourceUnavailable`` is the former name of :class:`~encoder.errors.SourceUnavailableError`.
__getattr__ = renamed_module_attributes(__name__, {"SourceUnavailable": SourceUnavailableError})

__all__ = [
    "BUTTON", "EXCLUDED", "EventQueue", "FOCUS", "KEY", "KEY_CLASSES", "MARKER", "MODES", "NORMAL", "POINTER",
    "PauseSwitch", "Policy", "PolicyError", "Recorder", "RecorderError", "SCROLL", "SECRET", "ServerClock",
    "Source", "SourceUnavailableError", "WindowInfo", "WindowTimeline", "anchor", "key_class", "keysym_text",
    "now_us", "x11_sources",
]
