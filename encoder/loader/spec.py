"""What one sample holds: :class:`SampleSpec`, the configuration shared by every dataset.

A sample is anchored at a time ``t_us`` of one shard: a screen frame's time when the shard
has frames, otherwise an event time (see :mod:`encoder.loader.index`). Around the anchor it
holds the frame on screen (or a short stack of earlier frames) and the rows of the chosen
event streams within ``[t_us - before_us, t_us + after_us)``, as fixed-size padded arrays
plus a length, so that samples of any shard stack into batches.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Mapping

import numpy as np

from ..actions import Rules
from ..streams import STREAMS
from ..streams.schema import KINDS, VARIABLE

#: Event streams of a sample by default: what the person did.
DEFAULT_STREAMS = ("pointer", "button", "scroll", "key", "focus")
#: Rows kept per stream and sample by default (a 1.5 s window: pointer at up to ~300 Hz).
DEFAULT_MAX_ROWS = {"pointer": 512, "button": 16, "scroll": 64, "key": 64, "focus": 4,
                    "command": 8, "marker": 8}
#: Streams whose times anchor samples in shards without frames.
DEFAULT_ANCHOR_STREAMS = ("pointer", "button", "scroll", "key")


def default_columns(stream: str) -> tuple[str, ...]:
    """The numeric columns of a built-in stream (strings stay out unless asked for)."""
    spec = STREAMS.get(stream)
    if spec is None:
        return ("t",)
    return tuple(c.name for c in spec.columns if c.kind not in VARIABLE)


def column_dtype(stream: str, column: str) -> np.dtype:
    """NumPy dtype of a column in samples (``object`` for string and binary columns)."""
    spec = STREAMS.get(stream)
    if spec is None:
        return np.dtype("<i8") if column == "t" else np.dtype(object)
    kind = spec.column(column).kind
    return np.dtype(object) if kind in VARIABLE else KINDS[kind][0]


@dataclass(frozen=True)
class SampleSpec:
    """The contents of a sample (every field has a default; see docs/loader.md).

    Parameters
    ----------
    streams : tuple of str
        Event streams in each sample (``()`` for frames only). A stream a shard lacks
        gives zero rows.
    columns : dict, optional
        Columns per stream (projection; ``t`` is always included). Default: the numeric
        columns. String columns come as object arrays (``None`` pads them).
    before_us, after_us : int
        The event window ``[t_us - before_us, t_us + after_us)`` around the anchor.
    max_rows : int or dict
        Rows per stream and sample; arrays are padded to it. When more rows fall in the
        window, the rows nearest the anchor are kept: up to the share
        ``before_us / (before_us + after_us)`` of ``max_rows`` from before it, the rest
        after it (a side that needs less leaves its share to the other).
    relative_time : bool
        Event ``t`` and ``frame_t`` as microseconds relative to ``t_us`` (default) or absolute.
    frames : bool
        Include the screen frame(s) when the shard has frames.
    screen : int
        Which screen's frames anchor samples and fill them.
    frame_stack : int
        Frames per sample: the anchor frame and the ``frame_stack - 1`` before it, every
        ``stack_stride`` frames, oldest first (the first frame repeats at a shard's start).
    crop : (top, left, height, width), optional
        Region of the frame kept (before ``resize``), in pixels.
    resize : (height, width), optional
        Output size of every frame; ``resize_method`` is ``'box'`` (mean of the source
        pixels each output pixel covers: sharp text stays legible when shrinking) or
        ``'nearest'``.
    anchor : {'auto', 'frames', 'events'}
        Anchor samples on frames (``auto``: when the shard has frames of ``screen``) or on
        event times.
    frame_step : int
        Every ``frame_step``-th frame anchors a sample.
    anchor_streams : tuple of str
        Streams whose times anchor samples when anchoring on events.
    anchor_gap_us : int
        Event anchors: at most one per ``anchor_gap_us`` bucket of time (the first event in
        it), so that a 1000 Hz pointer does not give a thousand near-identical samples a
        second. 0 keeps every distinct event time.
    sample : {'window', 'action'}
        ``window`` (the default): samples at frames or event times, as above. ``action``:
        one sample per action that :func:`encoder.actions.derive` finds, anchored at its start,
        holding its observation frame (the last frame at or before it; zeros and index -1
        when there is none), its fields (``action.*``), its tokens and the ``history``
        previous actions (``history.*``), beside the event window (docs/loader.md).
    history : int
        ``sample='action'``: previous actions per sample (oldest first, padded).
    max_tokens : int
        ``sample='action'``: tokens per action (:class:`encoder.actions.ActionTokenizer`),
        padded; a longer action is cut and ``action.tokens_len`` says so. 0: no tokens.
    rules : encoder.actions.Rules, optional
        ``sample='action'``: the derivation's rules (default: the shard's, see
        :meth:`encoder.actions.Rules.for_metadata`).
    """

    streams: tuple = DEFAULT_STREAMS
    columns: Mapping | None = None
    before_us: int = 500_000
    after_us: int = 1_000_000
    max_rows: Mapping | int = field(default_factory=lambda: dict(DEFAULT_MAX_ROWS))
    relative_time: bool = True
    frames: bool = True
    screen: int = 0
    frame_stack: int = 1
    stack_stride: int = 1
    crop: tuple | None = None
    resize: tuple | None = None
    resize_method: str = "box"
    anchor: str = "auto"
    frame_step: int = 1
    anchor_streams: tuple = DEFAULT_ANCHOR_STREAMS
    anchor_gap_us: int = 100_000
    sample: str = "window"
    history: int = 0
    max_tokens: int = 64
    rules: object = None

    def __post_init__(self):
        set_ = object.__setattr__
        streams = (self.streams,) if isinstance(self.streams, str) else tuple(self.streams)
        set_(self, "streams", streams)
        if len(set(streams)) != len(streams):
            raise ValueError(f"streams listed twice: {streams}")
        columns = dict(self.columns or {})
        unknown = sorted(set(columns) - set(streams))
        if unknown:
            raise ValueError(f"columns given for streams not in the sample: {unknown}")
        resolved = {}
        for s in streams:
            cols = tuple(columns[s]) if s in columns else default_columns(s)
            cols = ("t",) + tuple(c for c in cols if c != "t")
            if s in STREAMS:
                for c in cols:
                    STREAMS[s].column(c)  # SchemaError naming an unknown column
            resolved[s] = cols
        set_(self, "columns", resolved)
        rows = self.max_rows
        rows = {s: int(rows) for s in streams} if isinstance(rows, (int, np.integer)) else \
            {s: int(dict(rows).get(s, DEFAULT_MAX_ROWS.get(s, 64))) for s in streams}
        if any(r < 1 for r in rows.values()):
            raise ValueError(f"max_rows must be at least 1: {rows}")
        set_(self, "max_rows", rows)
        if self.before_us < 0 or self.after_us < 0 or self.before_us + self.after_us <= 0:
            raise ValueError("before_us and after_us must be >= 0 and not both 0")
        if self.frame_stack < 1 or self.stack_stride < 1 or self.frame_step < 1:
            raise ValueError("frame_stack, stack_stride and frame_step must be at least 1")
        if self.anchor not in ("auto", "frames", "events"):
            raise ValueError(f"anchor must be 'auto', 'frames' or 'events', not {self.anchor!r}")
        if self.resize_method not in ("box", "nearest"):
            raise ValueError(f"resize_method must be 'box' or 'nearest', not {self.resize_method!r}")
        if self.crop is not None:
            crop = tuple(int(v) for v in self.crop)
            if len(crop) != 4 or crop[0] < 0 or crop[1] < 0 or crop[2] < 1 or crop[3] < 1:
                raise ValueError(f"crop is (top, left, height, width) with a positive size, not {self.crop}")
            set_(self, "crop", crop)
        if self.resize is not None:
            size = tuple(int(v) for v in self.resize)
            if len(size) != 2 or min(size) < 1:
                raise ValueError(f"resize is (height, width), positive, not {self.resize}")
            set_(self, "resize", size)
        set_(self, "anchor_streams", tuple(self.anchor_streams))
        if self.anchor_gap_us < 0:
            raise ValueError("anchor_gap_us must be >= 0")
        if self.sample not in ("window", "action"):
            raise ValueError(f"sample must be 'window' or 'action', not {self.sample!r}")
        if self.history < 0 or self.max_tokens < 0:
            raise ValueError("history and max_tokens must be >= 0")
        if self.rules is not None and not isinstance(self.rules, Rules):
            raise TypeError(f"rules must be an encoder.actions.Rules, not {type(self.rules).__name__}")

    def anchor_options(self) -> dict:
        """The fields that decide which samples a shard has (part of the index's identity)."""
        if self.sample == "action":
            return {"anchor": "actions", "screen": int(self.screen),
                    "rules": None if self.rules is None else self.rules.to_json()}
        return {"anchor": "events" if self.anchor == "auto" and not self.frames else self.anchor,
                "screen": int(self.screen), "frame_step": int(self.frame_step),
                "anchor_streams": list(self.anchor_streams), "anchor_gap_us": int(self.anchor_gap_us)}

    @property
    def uses_frames(self) -> bool:
        """Whether the frame index of a shard is read at all."""
        return self.frames or self.anchor == "frames"

    def replace(self, **changes) -> "SampleSpec":
        """A copy with ``changes``; columns and row counts of streams no longer listed are dropped."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        streams = (values["streams"],) if isinstance(values["streams"], str) else tuple(values["streams"])
        for name in ("columns", "max_rows"):
            if name not in changes and isinstance(values[name], Mapping):
                values[name] = {s: v for s, v in values[name].items() if s in streams}
        return SampleSpec(**values)


__all__ = ["DEFAULT_ANCHOR_STREAMS", "DEFAULT_MAX_ROWS", "DEFAULT_STREAMS", "SampleSpec", "column_dtype",
           "default_columns"]
