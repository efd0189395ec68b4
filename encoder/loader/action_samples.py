"""The action part of ``sample='action'`` samples: the action's fields, its tokens, its history.

The actions of a shard are derived once per process (the index derived them too, with the
same rules, so sample ``i`` of a shard is action ``i`` of its table) and kept as NumPy columns:

=====================  ==========================  ===============================================
field                  type                        what
=====================  ==========================  ===============================================
``action.<column>``    [B] numeric                 the action's column (``kind``: index into
                                                   :data:`encoder.actions.KINDS`; nulls are 0,
                                                   NaN for floats; times relative to ``t_us``
                                                   when ``relative_time``)
``action.text``        object[B]                   typed text, key name, title... (None: null)
``action.app``         object[B]                   the application in focus (also ``cwd`` and
                                                   ``element_role``/``_name``/``_path``)
``action.tokens``      int32[B, max_tokens]        :class:`~encoder.actions.ActionTokenizer` tokens, padded
``action.tokens_len``  int32[B]                    valid tokens (a longer action is cut)
``history.<column>``   [B, history]                the ``history`` previous actions, oldest first,
                                                   right-aligned (the padding comes first)
``history.len``        int32[B]                    valid history rows (fewer at a shard's start)
=====================  ==========================  ===============================================
"""
from __future__ import annotations

import numpy as np

from ..actions import KINDS, Rules, derive
from ..actions.tokens import PAD, ActionTokenizer
from ..errors import EncoderError

#: Numeric fields of an action in samples and their dtypes.
FIELDS = {"kind": np.int8, "t": np.int64, "t_end": np.int64, "x": np.int32, "y": np.int32, "x2": np.int32,
          "y2": np.int32, "button": np.uint8, "count": np.int32, "dx": np.int32, "dy": np.int32,
          "frame": np.int64, "hesitation_us": np.int64, "move_us": np.int64, "move_px": np.float32,
          "straightness": np.float32, "fitts_id": np.float32, "dwell_us": np.int64, "flight_us": np.int64,
          "keys_per_s": np.float32, "exit_code": np.int32, "duration_us": np.int64}
STRINGS = ("text", "app", "cwd", "element_role", "element_name", "element_path")
_TIMES = ("t", "t_end")
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}


class _ShardActions:
    """One shard's actions as NumPy columns, and its tokenizer."""

    def __init__(self, reader, spec):
        rules = spec.rules if isinstance(spec.rules, Rules) else None
        table = derive(reader, screen=spec.screen, rules=rules)
        self.table = table
        self.columns = {}
        for name, dtype in FIELDS.items():
            column = table.column(name)
            if name == "kind":
                values = np.array([_KIND_CODE[k] for k in column.to_pylist()], np.int8)
            else:
                fill = np.nan if np.dtype(dtype).kind == "f" else 0
                values = column.fill_null(fill).to_numpy().astype(dtype)
            self.columns[name] = values
        for name in STRINGS:
            self.columns[name] = np.asarray(table.column(name).to_pylist(), object)
        self.tokenizer = ActionTokenizer(screen=_screen_size(reader, spec.screen)) if spec.max_tokens else None
        self.tokens: dict[int, np.ndarray] = {}

    def tokens_of(self, i: int) -> np.ndarray:
        hit = self.tokens.get(i)
        if hit is None:
            hit = self.tokens[i] = self.tokenizer.encode(self.table.slice(i, 1))
        return hit


def _screen_size(reader, screen: int) -> tuple[int, int]:
    """(width, height) of ``screen``: from its frames, else the shard's metadata."""
    if "frame" in reader.streams and reader.frame_count(screen):
        info = reader.frame_info(0, screen)
        return int(info["width"]), int(info["height"])
    screens = reader.metadata.get("screens") or []
    if isinstance(screens, list) and len(screens) > screen and isinstance(screens[screen], dict):
        size = screens[screen]
        if isinstance(size.get("width"), int) and isinstance(size.get("height"), int):
            return size["width"], size["height"]
    raise EncoderError("action tokens need the screen size: the shard has neither frames nor "
                       "metadata['screens']; use max_tokens=0", shard=reader.name)


class ActionSamples:
    """Writes the action part of samples (see the module docstring)."""

    def __init__(self, spec):
        self.spec = spec
        self._shards: dict[str, _ShardActions] = {}

    def reset(self) -> None:
        self._shards.clear()

    def allocate(self, out: dict, n: int) -> None:
        k = self.spec.history
        for name, dtype in FIELDS.items():
            out[f"action.{name}"] = np.zeros(n, dtype)
            out[f"history.{name}"] = np.zeros((n, k), dtype)
        for name in STRINGS:
            out[f"action.{name}"] = np.full(n, None, object)
            out[f"history.{name}"] = np.full((n, k), None, object)
        out["history.len"] = np.zeros(n, np.int32)
        if self.spec.max_tokens:
            out["action.tokens"] = np.zeros((n, self.spec.max_tokens), np.int32)
            out["action.tokens_len"] = np.zeros(n, np.int32)

    def fill(self, out: dict, b: int, reader, name: str, local: int, base: int) -> None:
        actions = self._shards.get(name)
        if actions is None:
            actions = self._shards[name] = _ShardActions(reader, self.spec)
        cols = actions.columns
        if local >= len(cols["t"]):
            raise EncoderError(f"action {local} is not in the shard's {len(cols['t'])} actions: the shard "
                               "changed since the index was built", shard=name)
        k = self.spec.history
        lo = max(0, local - k)
        h = local - lo
        for field in (*FIELDS, *STRINGS):
            values = cols[field]
            shift = base if field in _TIMES else 0
            out[f"action.{field}"][b] = values[local] - shift if shift else values[local]
            dst = out[f"history.{field}"][b]
            if h:
                dst[k - h:] = values[lo:local] - shift if shift else values[lo:local]
            dst[:k - h] = np.nan if dst.dtype.kind == "f" else (None if dst.dtype == object else 0)
        out["history.len"][b] = h
        if self.spec.max_tokens:
            tokens = actions.tokens_of(local)[:self.spec.max_tokens]
            out["action.tokens"][b, :len(tokens)] = tokens
            out["action.tokens"][b, len(tokens):] = PAD
            out["action.tokens_len"][b] = len(tokens)

