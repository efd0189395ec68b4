"""Assembling the actions table: the kernels' parts in time order, with the observation
frame, the app in focus, the hesitation and the movement features of each action."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import _numba as nb
from .rules import Rules
from .schema import CORE_SCHEMA as SCHEMA, KINDS

_KIND_NAMES = pa.array(KINDS, pa.string())
_STRINGS = ("text",)
#: Columns computed here for the sorted table rather than taken from the kernels' parts.
_COMPUTED = ("kind", "path_x", "path_y", "frame", "hesitation_us", "app", "move_us", "move_px", "straightness",
             "fitts_id")


def _column(parts: list, name: str, sizes: list):
    """One column over all parts: (values, valid) in NumPy, or an Arrow array for strings."""
    field = SCHEMA.field(name)
    if name in _STRINGS:
        return pa.concat_arrays([part[name] if name in part else pa.nulls(n, pa.string())
                                 for part, n in zip(parts, sizes)]).cast(pa.string())
    dtype = field.type.to_pandas_dtype()
    values, valid = [], []
    for part, n in zip(parts, sizes):
        v = part.get(name)
        if v is None:
            values.append(np.zeros(n, dtype))
            valid.append(np.zeros(n, np.bool_))
        elif hasattr(v, "filled"):
            values.append(np.asarray(v.filled).astype(dtype, copy=False))
            valid.append(v.valid)
        else:
            values.append(np.asarray(v).astype(dtype, copy=False))
            valid.append(np.ones(n, np.bool_))
    return np.concatenate(values), np.concatenate(valid)


def _frames(frame_t: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Index of the frame ``ShardReader.frame_at(t)`` gives: the latest time at or before t, the
    last written of equal times (-1 when none)."""
    if not len(frame_t):
        return np.full(len(t), -1, np.int64)
    order = np.argsort(frame_t, kind="stable")  # stable: equal times stay in written order
    at = np.searchsorted(frame_t[order], t, side="right") - 1
    return np.where(at >= 0, order[np.maximum(at, 0)], -1).astype(np.int64)


def _paths(parts: list, order: np.ndarray, pointer) -> tuple:
    """``path_x``, ``path_y`` of the drags: press point, the hold's pointer rows, release point."""
    bounds, drag = parts[0]["path"]
    n = len(order)
    where = np.empty(n, np.int64)
    where[order] = np.arange(n)  # the table row of each action
    rows = np.flatnonzero(drag)
    rows = rows[np.argsort(where[rows], kind="stable")]  # drags in table order
    first = parts[0]
    offsets, xs, ys = nb.drag_paths(pointer["x"], pointer["y"], bounds[rows], first["x"][rows], first["y"][rows],
                                    first["x2"].filled[rows], first["y2"].filled[rows])
    lengths = np.zeros(n, np.int64)
    lengths[where[rows]] = np.diff(offsets)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    mask = pa.array(lengths == 0)
    return (pa.ListArray.from_arrays(pa.array(offsets), pa.array(xs), mask=mask),
            pa.ListArray.from_arrays(pa.array(offsets), pa.array(ys), mask=mask))


def build(parts: list, inputs, pointer, focus, rules: Rules) -> pa.Table:
    """The table of ``parts`` (dicts of column -> values from the kernels; ``order``: the row
    that made each action, ``r_end``: a move's pointer rows, ``path``: the drags' rows)."""
    sizes = [len(part["kind"]) for part in parts]
    kind = np.concatenate([part["kind"] for part in parts]).astype(np.int8)
    t, _ = _column(parts, "t", sizes)
    made_by = np.concatenate([np.asarray(part["order"], np.int64) for part in parts])
    order = np.lexsort((made_by, kind, t))
    cols = {}
    for field in SCHEMA:
        if field.name in _COMPUTED:  # filled below, from the sorted actions
            continue
        col = _column(parts, field.name, sizes)
        cols[field.name] = col.take(pa.array(order)) if isinstance(col, pa.Array) else (col[0][order], col[1][order])
    kind, t, t_end = kind[order], t[order], cols["t_end"][0]
    n = len(t)
    prev_end = np.concatenate([[0], t_end[:-1]]).astype(np.int64)
    first = np.int64(inputs.start_us if inputs.start_us is not None else 0)
    hesitation = np.maximum(t - np.where(np.arange(n) > 0, prev_end, first), 0)
    # movement features of the pointer actions
    pointing = (kind >= nb.MOVE) & (kind <= nb.SCROLL)
    r_end = np.searchsorted(pointer["t"], t, side="right").astype(np.int64)
    moves = np.concatenate([part.get("r_end", np.full(sz, -1)) for part, sz in zip(parts, sizes)])[order]
    r_end = np.where(moves >= 0, moves, r_end)
    idx = np.flatnonzero(pointing)
    mus, mpx, straight, fitts = nb.movements(
        pointer["t"], pointer["x"], pointer["y"], t[idx], cols["x"][0][idx].astype(np.int64),
        cols["y"][0][idx].astype(np.int64), r_end[idx], prev_end[idx], idx > 0, rules.move_pause_us,
        float(rules.target_width_px))
    for name, values in (("move_us", mus), ("move_px", mpx), ("straightness", straight), ("fitts_id", fitts)):
        full = np.zeros(n, SCHEMA.field(name).type.to_pandas_dtype())
        full[idx] = values
        cols[name] = (full, pointing)
    app_row = np.searchsorted(focus["t"], t, side="right") - 1
    # the app of the last focus row at or before t: one take, a trailing null for "none yet"
    apps = pa.concat_arrays([focus.arrow("app"), pa.nulls(1, pa.string())])
    cols["app"] = apps.take(pa.array(np.where(app_row >= 0, app_row, len(focus["t"]))))
    path_x, path_y = _paths(parts, order, pointer)
    arrays = []
    for field in SCHEMA:
        name = field.name
        if name == "kind":
            arrays.append(_KIND_NAMES.take(pa.array(kind)))
        elif name == "frame":
            arrays.append(pa.array(_frames(inputs.frame_t, t), pa.int64()))
        elif name == "hesitation_us":
            arrays.append(pa.array(hesitation.astype(np.int64), pa.int64()))
        elif name in ("path_x", "path_y"):
            arrays.append(path_x if name == "path_x" else path_y)
        elif isinstance(cols[name], pa.Array):
            arrays.append(cols[name])
        else:
            values, valid = cols[name]
            arrays.append(pa.array(values, field.type, mask=None if valid.all() else ~valid))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)
