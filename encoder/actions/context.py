"""What the command and element streams add to actions: a command's cwd, exit code and duration;
the UI element a click or a window switch landed on (docs/actions.md, "Context").

Both derivations compute the core columns from the input streams; this join runs after either,
the same for both:

* **command** actions are the command rows one for one, in time order: they take the row's
  ``cwd``, ``exit_code`` and ``duration_us`` (-1, "unknown", becomes null).
* **click kinds and drags** take the first ``element`` row of event ``click`` whose time lies in
  the action's ``[t, t_end]`` (the recorder stamps it with the press it looked up);
* **focus** actions take the ``element`` row of event ``focus`` nearest in time within
  ``[t - 250 ms, t + 1 s]`` (the accessibility bus reports the newly focused widget around the
  window manager's switch, before or after it).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from .schema import CLICK_KINDS, CONTEXT_FIELDS, SCHEMA

FOCUS_BEFORE_US, FOCUS_AFTER_US = 250_000, 1_000_000


def attach(table: pa.Table, inputs) -> pa.Table:
    """``table`` (the core columns) with the context columns of :data:`SCHEMA`."""
    n = table.num_rows
    kind = table.column("kind").to_numpy(zero_copy_only=False)
    t = table.column("t").to_numpy()
    t_end = table.column("t_end").to_numpy()
    columns = {f.name: pa.nulls(n, f.type) for f in CONTEXT_FIELDS}
    command = inputs["command"]
    is_command = np.flatnonzero(kind == "command")
    if len(is_command):
        rows = np.arange(len(is_command))  # the command actions are the command rows, in order
        columns["cwd"] = _place(n, is_command, command.arrow("cwd").take(pa.array(rows)), pa.string())
        for name, dtype in (("exit_code", pa.int32()), ("duration_us", pa.int64())):
            values = np.asarray(command[name])[rows]
            columns[name] = _place(n, is_command, pa.array(values, dtype, mask=values < 0), dtype)
    element = inputs.context.get("element")
    if element is not None and len(element["t"]):
        columns.update(_elements(n, kind, t, t_end, element))
    arrays = [table.column(f.name) for f in table.schema] + [columns[f.name] for f in CONTEXT_FIELDS]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _elements(n: int, kind: np.ndarray, t: np.ndarray, t_end: np.ndarray, element) -> dict:
    et = element["t"]
    event = element.arrow("event").to_numpy(zero_copy_only=False)
    chosen = np.full(n, -1, np.int64)
    clicks = np.flatnonzero(event == "click")
    pointing = np.flatnonzero(np.isin(kind, CLICK_KINDS + ("drag",)))
    if len(clicks) and len(pointing):
        at = np.searchsorted(et[clicks], t[pointing], side="left")
        ok = at < len(clicks)
        hit = clicks[np.minimum(at, len(clicks) - 1)]
        ok &= et[hit] <= t_end[pointing]
        chosen[pointing[ok]] = hit[ok]
    focus = np.flatnonzero(event == "focus")
    switches = np.flatnonzero(kind == "focus")
    if len(focus) and len(switches):
        ft, ts = et[focus], t[switches]
        after = np.searchsorted(ft, ts, side="left")  # the first focus row at or after the switch
        before = after - 1                             # the last one before it
        gap_after = np.where(after < len(focus), ft[np.minimum(after, len(focus) - 1)] - ts, np.iinfo(np.int64).max)
        gap_before = np.where(before >= 0, ts - ft[np.maximum(before, 0)], np.iinfo(np.int64).max)
        ok_after = gap_after <= FOCUS_AFTER_US
        ok_before = gap_before <= FOCUS_BEFORE_US
        use_after = ok_after & (~ok_before | (gap_after <= gap_before))
        pick = np.where(use_after, after, before)
        ok = ok_after | ok_before
        chosen[switches[ok]] = focus[pick[ok]]
    take = pa.array(np.maximum(chosen, 0))
    mask = pa.array(chosen < 0)
    out = {}
    for name, column in (("element_role", "role"), ("element_name", "name"), ("element_path", "path")):
        values = element.arrow(column).take(take)
        out[name] = pa.compute.if_else(mask, pa.scalar(None, pa.string()), values)
    return out


def _place(n: int, rows: np.ndarray, values: pa.Array, dtype) -> pa.Array:
    """An array of ``n`` nulls with ``values`` at ``rows``."""
    index = np.full(n, len(values), np.int64)
    index[rows] = np.arange(len(values))
    return pa.concat_arrays([values.cast(dtype), pa.nulls(1, dtype)]).take(pa.array(index))
