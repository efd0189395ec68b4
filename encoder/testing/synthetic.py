"""A deterministic, synthetic desktop session, for tests, examples and benchmarks.

:func:`generate_session` simulates a person at a two-monitor Linux/X11 desktop switching
between a terminal (``xterm``), a browser (``firefox``) and an editor (``code``): pointer
moves between targets, clicks, drags, scroll bursts, typing bursts with shell commands,
focus changes, reading pauses. Nothing comes from third-party data; the same ``seed``
gives the same session, value for value, on every machine. The desktop is described in
:mod:`encoder.testing.desktop`, the person in :mod:`encoder.testing.simulation`.

The quirks of real recordings are there on purpose, because the codecs must handle them
losslessly:

* Input timestamps (pointer, button, scroll, key) come from the X server's millisecond
  clock, stored as int64 microseconds; the pointer reports at ~125 Hz while moving with a
  jittered period, two events sometimes share a millisecond, a few are out of order.
  Rows written by the recorder itself (focus, command, marker) carry its microsecond clock.
* No pointer events during pauses; events only when the integer position changes.
* The second monitor sits left of the primary one, so ``x < 0`` there; one or two rows
  hold the 65535 sentinel that some drivers report for an off-screen position.
* Keys are key-down/key-up pairs (dwell ~80-120 ms, rollover allowed), ``code`` is the X11
  keysym, ``text`` the produced character on key-down and null on key-up, ``modifiers`` the
  X11 state mask *before* the event (Shift = 1, Control = 4).

Examples
--------
>>> from encoder.testing.synthetic import generate_session
>>> session = generate_session(seconds=10, seed=1)
>>> sorted(session)
['button', 'command', 'focus', 'key', 'marker', 'pointer', 'scroll']
>>> session["pointer"]["t"].dtype, session["pointer"]["x"].dtype
(dtype('int64'), dtype('int32'))

``python -m encoder.testing.synthetic PATH [SECONDS] [SEED]`` writes a generated session as a
shard. The session that ``encoder demo`` reads by default is not synthetic: it is a real
recording (:data:`encoder.cli.demo.DEMO_SESSION_PATH`).
"""
from __future__ import annotations

import os

import numpy as np
import pyarrow as pa

from .._version import __version__
from ..streams import STREAMS, validate
from .desktop import DESKTOP, SCREENS, SENTINEL, T0_US, UNIX_US_AT_T0
from .simulation import RECORDER_NAME, Simulation

__all__ = ["DESKTOP", "RECORDER_NAME", "SCREENS", "SENTINEL", "T0_US", "UNIX_US_AT_T0", "generate_session",
           "session_metadata", "to_tables", "write_sample"]


def generate_session(seconds: float = 120, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Simulate ``seconds`` of desktop work; the same ``seed`` gives the same session.

    Parameters
    ----------
    seconds : float
        Length of the session (rows lie in ``[T0_US, T0_US + seconds * 1e6]``).
    seed : int
        Seed of the random generator (NumPy ``PCG64``).

    Returns
    -------
    dict
        ``{stream: {column: numpy array}}`` for the streams ``pointer``, ``button``,
        ``scroll``, ``key``, ``focus``, ``command`` and ``marker``, columns in schema order
        and dtypes (string columns are object arrays holding ``str`` or ``None``). Rows are
        in recording order: sorted by ``t`` except for the pointer's out-of-order quirks.

    Examples
    --------
    >>> s = generate_session(20, seed=3)
    >>> bool((s["key"]["pressed"]).sum() * 2 == len(s["key"]["t"]))
    True
    """
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, not {seconds!r}")
    session = Simulation(float(seconds), int(seed))
    session.run()
    return session.finish()


def to_tables(session: dict) -> dict[str, pa.Table]:
    """The streams of :func:`generate_session` as ``pyarrow.Table`` in the streams' schemas."""
    out = {}
    for name, columns in session.items():
        schema = STREAMS[name].arrow_schema
        checked = validate(STREAMS[name], columns)  # columns the simulation leaves out get their defaults
        arrays = [v if isinstance(v, pa.Array) else pa.array(v, f.type) for v, f in zip(checked.values(), schema)]
        out[name] = pa.Table.from_arrays(arrays, schema=schema)
    return out


def session_metadata(seconds: float = 120, seed: int = 0) -> dict:
    """Session metadata of a generated session (clock anchor, screens, recorder, privacy)."""
    return {
        "session": {"id": f"synthetic-{seed}", "seconds": seconds, "seed": seed},
        "clock": {"source": "monotonic", "t0_us": T0_US, "unix_us_at_t0": UNIX_US_AT_T0,
                  "resolution_us": {"pointer": 1000, "button": 1000, "scroll": 1000, "key": 1000,
                                    "focus": 1, "command": 1, "marker": 1}},
        "screens": [dict(s) for s in SCREENS],
        "recorder": {"name": RECORDER_NAME, "version": __version__, "synthetic": True},
        "privacy": {"policy": "full"},
        "host": {"os": "linux", "display": "x11", "keyboard_layout": "us"},
    }


def write_sample(path, seconds: float = 120, seed: int = 0) -> int:
    """Write a generated session as a shard at ``path``; returns the file size in bytes."""
    from ..shard import ShardWriter
    session = generate_session(seconds, seed)
    with ShardWriter(path, metadata=session_metadata(seconds, seed), flush_seconds=None,
                     background=False) as writer:
        for name, table in to_tables(session).items():
            writer.write(name, table)
    return os.path.getsize(path)


if __name__ == "__main__":  # python -m encoder.testing.synthetic PATH [SECONDS] [SEED]
    import sys
    if not 2 <= len(sys.argv) <= 4:
        raise SystemExit("usage: python -m encoder.testing.synthetic PATH [SECONDS] [SEED]")
    seconds, seed = (float(sys.argv[2]) if len(sys.argv) > 2 else 120), (int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    print(f"{sys.argv[1]}: {write_sample(sys.argv[1], seconds, seed)} bytes")
