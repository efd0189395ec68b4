"""The derivation on the Numba kernels: classify, merge the interruptions, run the kernels,
assemble the table. Strings stay in Arrow; Python loops only over distinct key codes."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..streams.keys import CONTROL, MOD1, MOD4, SHIFT, keysym_text
from . import _numba as nb
from .inputs import STREAM_ORDER, Inputs, gather
from .names import CLASS_NAMES, MODIFIER_KEYSYMS, NAMED, hotkey_prefix, key_name
from .rules import Rules
from .table import build

_MODIFIERS = np.array(sorted(MODIFIER_KEYSYMS), np.uint32)
_NAMED = np.array(sorted(k for k, v in NAMED.items() if v != "space" and k not in MODIFIER_KEYSYMS), np.uint32)
_TAPS = np.array(sorted(k for k, v in NAMED.items() if v in ("win", "alt")), np.uint32)
_TYPING_CLASSES = np.array([1, 2, 3, 4, 12], np.uint32)
_EDITING_CLASS, _MODIFIER_CLASS = 7, 5
_COMMAND_MODS = CONTROL | MOD1 | MOD4


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin`` for a small sorted set, by binary search (isin compares every pair)."""
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def _non_empty(text: pa.StringArray) -> np.ndarray:
    """Whether each string is neither null nor empty, from the offsets and the validity bitmap."""
    n = len(text)
    offsets = np.frombuffer(text.buffers()[1], np.int32, n + 1, text.offset * 4)
    out = np.diff(offsets) > 0
    if text.null_count:
        out &= text.is_valid().to_numpy(zero_copy_only=False)
    return out


def _end_us(inputs: Inputs) -> int:
    ends = [int(cols["t"][-1]) for cols in inputs.streams.values() if len(cols["t"])]
    if len(inputs.frame_t):
        ends.append(int(inputs.frame_t.max()))
    return max(ends) if ends else 0


def classify_keys(key) -> dict:
    """The key presses that make or shape actions, with their category, hotkey flag, name id
    and the text each types (docs/actions.md, Keys, rules 1-6)."""
    code, pressed, mods = key["code"], key["pressed"], key["modifiers"]
    release_row = nb.pair_releases(code, pressed)
    is_mod = _member(code, _MODIFIERS) | (code == _MODIFIER_CLASS)
    tap, join = _lone_taps(code, pressed, release_row)
    rows = np.flatnonzero(pressed & (~is_mod | tap))
    c, m = code[rows], mods[rows].astype(np.int64)
    text = key.arrow("text").take(pa.array(rows)) if len(rows) else pa.array([], pa.string())
    has_text = _non_empty(text)
    cat = np.full(len(rows), nb.K_KEY, np.int8)
    hot = np.zeros(len(rows), np.bool_)
    command = (m & _COMMAND_MODS) != 0
    shift = (m & SHIFT) != 0
    backspace = ~command & (c == 0xff08)
    named = ~command & ~backspace & _member(c, _NAMED)
    hot[command] = True
    cat[backspace] = nb.K_BACKSPACE
    hot[backspace | named] = shift[backspace | named]
    rest = ~(command | backspace | named)
    # text from the row, else from the keysym: looked up once per distinct code
    fallback = rest & ~has_text & (c >= 0x20)
    typed_by_code = np.zeros(len(rows), np.bool_)
    if fallback.any():
        codes, inverse = np.unique(c[fallback], return_inverse=True)
        chars = [keysym_text(int(k)) for k in codes]
        chars = pa.array([ch if ch is not None and ch.isprintable() else None for ch in chars] + [None],
                         pa.string())
        slot = np.full(len(rows), len(codes), np.int64)  # the trailing null
        slot[fallback] = inverse.reshape(-1)
        by_code = chars.take(pa.array(slot))
        typed_by_code = by_code.is_valid().to_numpy(zero_copy_only=False)
        if typed_by_code.any():
            text = pc.if_else(pa.array(typed_by_code), by_code, text)
    if not (has_text | typed_by_code).all():  # an empty text is no text: the burst's text is unknown
        text = pc.if_else(pa.array(has_text | typed_by_code), text, pa.scalar(None, pa.string()))
    is_class = rest & ~has_text & (c > 0) & (c < 0x20)
    cat[rest & (has_text | typed_by_code)] = nb.K_TYPE
    cat[is_class & _member(c, _TYPING_CLASSES)] = nb.K_TYPE
    cat[is_class & (c == _EDITING_CLASS)] = nb.K_EDIT
    cat[tap[rows]] = nb.K_TAP
    hot[tap[rows]] = False
    name, names = _names(c, m, cat, hot)
    return {"rows": rows, "cat": cat, "hot": hot, "name": name, "names": names, "text": text,
            "release_row": release_row, "join": join[rows]}


def _lone_taps(code, pressed, release_row):
    """Lone taps of win and alt (a press released with no other key pressed in between), and
    the presses that join the tap before them: an auto-repeat of the held key (the same key
    pressed again before its release) belongs to the one tap it ends, however long it is held."""
    presses = np.flatnonzero(pressed)
    c = code[presses]
    tapkey = _member(c, _TAPS)
    # one more press of the held key: the same tap key as the press before, which lost its release
    cont = np.zeros(len(presses), np.bool_)
    cont[1:] = tapkey[1:] & (c[1:] == c[:-1]) & (release_row[presses[:-1]] < 0)
    # a run of presses is a tap when its last press is released before any other key's press
    rel = release_row[presses]
    presses_before = np.concatenate([[0], np.cumsum(pressed)])
    released_alone = tapkey & (rel >= 0)
    released_alone[released_alone] = (presses_before[rel[released_alone]]
                                      == presses_before[presses[released_alone] + 1])
    run = np.cumsum(~cont) - 1
    last = np.ones(len(presses), np.bool_)
    last[:-1] = run[1:] != run[:-1]
    ok = np.zeros(len(presses) and int(run[-1]) + 1, np.bool_)
    ok[run[last]] = released_alone[last]
    tap = np.zeros(len(code), np.bool_)
    join = np.zeros(len(code), np.bool_)
    tap[presses[ok[run]]] = True
    join[presses[ok[run] & cont]] = True
    return tap, join


def _names(code, mods, cat, hot):
    """Name ids of the presses that make key actions (types get -1), and the names."""
    name = np.full(len(code), -1, np.int64)
    keyed = cat != nb.K_TYPE
    held = np.where(hot, mods & (CONTROL | MOD1 | MOD4 | SHIFT), 0)
    pairs = (code.astype(np.int64) << 8 | held)[keyed]  # keysyms are 32-bit, the mask 8
    if not len(pairs):
        return name, []
    uniq, inverse = np.unique(pairs, return_inverse=True)
    # one id per name, not per keysym: Tab and ISO_Left_Tab are both "tab", one key repeated
    index: dict[str, int] = {}
    of_pair = np.empty(len(uniq), np.int64)
    for j, (k, h) in enumerate(zip((uniq >> 8).tolist(), (uniq & 0xff).tolist())):
        base = CLASS_NAMES.get(k) if k < 0x20 else None
        base = base or key_name(k)
        of_pair[j] = -1 if base is None else index.setdefault(hotkey_prefix(h) + base, len(index))
    ids = of_pair[np.asarray(inverse).reshape(-1)]
    unnamed = np.flatnonzero(ids < 0)
    ids[unnamed] = -2 - unnamed  # a key without a name is never "the same key" as another
    name[keyed] = ids
    return name, list(index)


def _interruptions(inputs: Inputs, keys: dict, focus_action: np.ndarray):
    """The merged order of the rows that interrupt (docs/actions.md, Interruptions): their
    times, the running counts of all of them and of those not from the key stream, and each
    row's merged position per stream."""
    b, s, c = inputs["button"], inputs["scroll"], inputs["command"]
    presses = np.flatnonzero(b["pressed"])
    fa = np.flatnonzero(focus_action)
    parts = [  # (t, stream rank, row, counts for all, counts for the non-key)
        (b["t"][presses], 1, presses, 1, 1),
        (s["t"], 2, np.arange(len(s["t"])), 1, 1),
        (inputs["key"]["t"][keys["rows"]], 3, keys["rows"], (keys["cat"] != nb.K_TAP).astype(np.int64), 0),
        (inputs["focus"]["t"][fa], 4, fa, 1, 1),
        (c["t"], 5, np.arange(len(c["t"])), 1, 1),
    ]
    t = np.concatenate([p[0] for p in parts]).astype(np.int64)
    w_all = np.concatenate([np.broadcast_to(p[3], len(p[0])) for p in parts]).astype(np.int64)
    w_other = np.concatenate([np.broadcast_to(p[4], len(p[0])) for p in parts]).astype(np.int64)
    # the parts are in stream order and each in row order: a stable sort on t alone gives
    # (t, stream, row), and finds the sorted runs (timsort) instead of sorting three keys
    order = np.argsort(t, kind="stable")
    where = np.empty(len(order), np.int64)
    where[order] = np.arange(len(order))
    cum_all = np.concatenate([[0], np.cumsum(w_all[order])])
    cum_other = np.concatenate([[0], np.cumsum(w_other[order])])
    bounds = np.cumsum([0] + [len(p[0]) for p in parts])
    button_pos = np.full(len(b["t"]), -1, np.int64)
    button_pos[presses] = where[bounds[0]:bounds[1]]
    return (t[order], cum_all, cum_other, button_pos, where[bounds[1]:bounds[2]], where[bounds[2]:bounds[3]])


def derive_inputs(inputs: Inputs, rules: Rules) -> pa.Table:
    """The actions of ``inputs`` under ``rules`` (the native backend's ``derive_inputs``)."""
    end_us = _end_us(inputs)
    wheel = (inputs["button"]["button"] >= 4) & (inputs["button"]["button"] <= 7)
    if wheel.any():  # wheel buttons in the button stream are the scroll stream's: left out
        inputs = Inputs({**inputs.streams, "button": {n: v[~wheel] for n, v in inputs["button"].items()}},
                        inputs.frame_t, inputs.start_us, inputs.metadata)
    p, b, s, k, f, c = (inputs[name] for name in STREAM_ORDER)
    focus_action = np.zeros(len(f["t"]), np.bool_)
    focus_action[1:] = f["window"][1:] != f["window"][:-1]
    keys = classify_keys(k)
    merged_t, cum_all, cum_other, button_pos, scroll_pos, key_pos = _interruptions(inputs, keys, focus_action)
    parts = []

    # buttons: clicks, multi-clicks, drags
    release_row = nb.pair_releases(b["button"].astype(np.uint32), b["pressed"])
    release_at = np.where(release_row >= 0, b["t"][np.maximum(release_row, 0)], end_us).astype(np.int64) \
        if len(release_row) else np.zeros(0, np.int64)
    kind, t0, t1, xy, button, count, row, path = nb.buttons(
        b["t"], b["button"], b["pressed"], b["x"], b["y"], button_pos, release_at, release_row,
        p["t"], p["x"], p["y"], cum_all, rules.click_max_px, rules.multi_click_us, rules.multi_click_px)
    drag = kind == nb.DRAG
    parts.append(dict(kind=kind, t=t0, t_end=t1, x=xy[:, 0], y=xy[:, 1], x2=_masked(xy[:, 2], drag),
                      y2=_masked(xy[:, 3], drag), button=button, count=count, order=row, path=(path, drag)))

    # scroll bursts
    first, st1, sums, scount = nb.scrolls(s["t"], s["dx"], s["dy"], s["x"], s["y"], scroll_pos, cum_all,
                                          rules.scroll_gap_us, rules.scroll_move_px)
    parts.append(dict(kind=np.full(len(first), nb.SCROLL, np.int8), t=s["t"][first], t_end=st1,
                      x=s["x"][first], y=s["y"][first], dx=_clip32(sums[:, 0]), dy=_clip32(sums[:, 1]),
                      count=scount, order=first))

    # keys, hotkeys, typing
    rows = keys["rows"]
    kt = k["t"][rows]
    kr = keys["release_row"][rows]
    has_release = kr >= 0
    release = np.where(has_release, k["t"][np.maximum(kr, 0)], kt) if len(rows) else kt
    # a typing press without text (timing-only) or an editing press: the burst's text is unknown
    no_text = keys["text"].is_null().to_numpy(zero_copy_only=False)
    unknown = (keys["cat"] == nb.K_EDIT) | ((keys["cat"] == nb.K_TYPE) & no_text)
    (kkind, kfirst, klast, kt1, kcount, kname, dwell, flight, kept, kept_lo, kept_hi, kunknown) = nb.keys(
        kt, keys["cat"], keys["hot"], keys["name"], keys["join"], unknown, key_pos, release, has_release, cum_all,
        cum_other, rules.type_gap_us)
    parts.append(_key_part(keys, kt, kkind, kfirst, klast, kt1, kcount, kname, dwell, flight, kept, kept_lo,
                           kept_hi, kunknown))

    # focus and commands
    fa = np.flatnonzero(focus_action)
    parts.append(dict(kind=np.full(len(fa), nb.FOCUS, np.int8), t=f["t"][fa], t_end=f["t"][fa],
                      count=np.ones(len(fa), np.int32), text=f.arrow("title").take(pa.array(fa)), order=fa))
    parts.append(dict(kind=np.full(len(c["t"]), nb.COMMAND, np.int8), t=c["t"], t_end=c["t"],
                      count=np.ones(len(c["t"]), np.int32), text=c.arrow("text"), order=np.arange(len(c["t"]))))

    # hovers: need the pointer actions' reference points and the holds
    parts.append(_hover_part(p, parts[0], parts[1], merged_t, cum_all, b, release_at, rules))
    return build(parts, inputs, p, f, rules)


def _key_part(keys, kt, kind, first, last, t1, count, name, dwell, flight, kept, kept_lo, kept_hi, unknown) -> dict:
    is_type = kind == nb.TYPE
    names = pa.array(keys["names"] + [None], pa.string())
    text = names.take(pa.array(np.where(name >= 0, name, len(keys["names"]))))
    if is_type.any():
        lo, hi = kept_lo[is_type], kept_hi[is_type]
        offsets = np.concatenate([lo, hi[-1:]]).astype(np.int32)
        values = keys["text"].take(pa.array(kept[lo[0]:hi[-1]] if len(kept) else kept))
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets - offsets[0]), values), "")
        text = text.to_numpy(zero_copy_only=False)
        text[is_type] = np.asarray(joined.to_pylist(), object)
        text[is_type & unknown] = None
        text = pa.array(text, pa.string())
    span_us = kt[last] - kt[first]
    rate = np.where(span_us > 0, (count - 1) / np.maximum(span_us, 1) * 1e6, np.nan)
    return dict(kind=kind, t=kt[first], t_end=t1, count=count, text=text, order=keys["rows"][first],
                dwell_us=_masked(dwell, is_type & (dwell != nb.NONE)),
                flight_us=_masked(flight, is_type & (flight != nb.NONE)),
                keys_per_s=_masked(rate.astype(np.float32), is_type & (count > 1) & (span_us > 0)))


def _hover_part(p, button_part, scroll_part, merged_t, cum_all, b, release_at, rules) -> dict:
    drag = button_part["kind"] == nb.DRAG
    ref_t = np.concatenate([button_part["t"], scroll_part["t"]])
    ref_x = np.concatenate([np.where(drag, button_part["x2"].filled, button_part["x"]), scroll_part["x"]])
    ref_y = np.concatenate([np.where(drag, button_part["y2"].filled, button_part["y"]), scroll_part["y"]])
    order = np.argsort(ref_t, kind="stable")
    presses = np.flatnonzero(b["pressed"])
    anchor, ending = nb.hovers(p["t"], p["x"], p["y"], merged_t, cum_all, np.sort(b["t"][presses]),
                               np.sort(release_at[presses]), ref_t[order],
                               np.stack([ref_x[order], ref_y[order]], 1).astype(np.int64),
                               rules.hover_us, rules.hover_radius_px, rules.hover_travel_px)
    return dict(kind=np.full(len(anchor), nb.MOVE, np.int8), t=p["t"][anchor], t_end=p["t"][ending],
                x=p["x"][anchor], y=p["y"][anchor], count=np.ones(len(anchor), np.int32), order=anchor,
                r_end=anchor + 1)


class _Masked:
    """Values with a validity mask (None: all valid), for nullable columns."""

    def __init__(self, filled: np.ndarray, valid: np.ndarray | None):
        self.filled, self.valid = filled, valid


def _masked(values, valid) -> _Masked:
    return _Masked(np.asarray(values), np.asarray(valid, np.bool_))


def _clip32(values: np.ndarray) -> np.ndarray:
    return np.clip(values, -2**31, 2**31 - 1).astype(np.int32)


def derive_inputs_warm() -> None:
    """Run every kernel once on a tiny session (compiles them, or loads Numba's cache)."""
    tiny = {"pointer": {"t": [0, 10, 2_000_000, 2_000_010], "x": [0, 50, 50, 90], "y": [0, 50, 50, 90]},
            "button": {"t": [20, 30], "button": [1, 1], "pressed": [True, False], "x": [50, 50], "y": [50, 50]},
            "scroll": {"t": [40], "dx": [0], "dy": [1], "precise": [False], "x": [50], "y": [50]},
            "key": {"t": [50, 60], "code": [0x61, 0x61], "pressed": [True, False], "modifiers": [0, 0],
                    "text": ["a", None]}}
    derive_inputs(gather(tiny), Rules())


__all__ = ["classify_keys", "derive_inputs"]
