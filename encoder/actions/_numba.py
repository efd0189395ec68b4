"""Numba kernels of the derivation (docs/actions.md states the rules they implement).

Every kernel takes time-ordered NumPy arrays and returns NumPy arrays; the orchestration,
strings and the Arrow table are in :mod:`~encoder.actions.native`. *Interruptions* are
counted on one merged, time-ordered list of the rows that can interrupt (button presses,
wheel ticks, key presses, focus actions, commands): ``cum[k]`` is how many interrupting rows
precede merged position ``k``, so the rows strictly between positions ``i < j`` number
``cum[j] - cum[i + 1]``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

# Action kind codes (the index into schema.KINDS).
FOCUS, COMMAND, MOVE, CLICK, DOUBLE, TRIPLE, RIGHT, MIDDLE, DRAG, SCROLL, KEY, HOTKEY, TYPE = range(13)
# Categories of the key presses the key kernel walks (native.classify_keys).
K_KEY, K_BACKSPACE, K_TYPE, K_EDIT, K_TAP = 1, 2, 3, 4, 5
#: "No value" of the dwell and flight medians (a flight is negative when keys overlap).
NONE = np.iinfo(np.int64).min
_OPTS = dict(cache=True, nogil=True)


@njit(**_OPTS)
def _between(cum, i, j):
    """Interrupting rows strictly between merged positions i < j."""
    return cum[j] - cum[i + 1] if j > i + 1 else 0


@njit(**_OPTS)
def _cheb(x0, y0, x1, y1):
    return max(abs(np.int64(x1) - x0), abs(np.int64(y1) - y0))


@njit(**_OPTS)
def _slot(keys, k, mask):
    h = (k * 2654435761) & mask
    while keys[h] != -1 and keys[h] != k:
        h = (h + 1) & mask
    return h


@njit(**_OPTS)
def pair_releases(code, pressed):
    """For each press, the row of the release of its code that ends it: the next release
    after it, unless another press of the code comes first (then -1: its release was lost).

    One backward pass; each code's pending release sits in a small open-addressing hash
    table, grown to stay at most half full (keysyms are sparse 32-bit values and a recording
    uses a few hundred: a table that fits the cache beats sorting the codes)."""
    n = len(code)
    out = np.full(n, -1, np.int64)
    size = 256
    keys = np.full(size, -1, np.int64)
    pending = np.full(size, -1, np.int64)
    used = 0
    for i in range(n - 1, -1, -1):
        k = np.int64(code[i])
        h = _slot(keys, k, size - 1)
        if keys[h] == -1:
            if 2 * (used + 1) > size:  # grow and re-insert
                old_keys, old_pending = keys, pending
                size *= 2
                keys = np.full(size, -1, np.int64)
                pending = np.full(size, -1, np.int64)
                for j in range(len(old_keys)):
                    if old_keys[j] != -1:
                        g = _slot(keys, old_keys[j], size - 1)
                        keys[g], pending[g] = old_keys[j], old_pending[j]
                h = _slot(keys, k, size - 1)
            keys[h] = k
            used += 1
        if pressed[i]:  # the release is this press's; an earlier press of the code lost its own
            out[i] = pending[h]
            pending[h] = -1
        else:
            pending[h] = i
    return out


@njit(**_OPTS)
def buttons(bt, bb, bp, bx, by, pos, release_at, release_row, pt, px, py, cum, click_max_px,
            multi_us, multi_px):
    """Clicks, multi-clicks and drags from the button rows.

    ``release_at[i]``/``release_row[i]``: the paired release's time and row (-1: none; the
    hold then runs to the end of the recording). Returns per action: kind, t, t_end, x, y,
    x2, y2, button, count, the press row, and the drag's pointer rows [lo, hi).
    """
    n = len(bt)
    kind = np.empty(n, np.int8)
    t0 = np.empty(n, np.int64)
    t1 = np.empty(n, np.int64)
    xy = np.empty((n, 4), np.int32)
    button = np.empty(n, np.uint8)
    count = np.empty(n, np.int32)
    row = np.empty(n, np.int64)
    path = np.empty((n, 2), np.int64)
    m = 0
    last = -1        # action index of the open button-1 click sequence
    last_press = -1  # its latest press row
    for i in range(n):
        if not bp[i]:
            continue
        lo = np.searchsorted(pt, bt[i], side="right")
        hi = np.searchsorted(pt, release_at[i], side="right")
        far = 0
        for k in range(lo, hi):
            far = max(far, _cheb(bx[i], by[i], px[k], py[k]))
        r = release_row[i]
        if r >= 0:
            ex, ey = bx[r], by[r]
        elif hi > lo:
            ex, ey = px[hi - 1], py[hi - 1]
        else:
            ex, ey = bx[i], by[i]
        far = max(far, _cheb(bx[i], by[i], ex, ey))
        b = bb[i]
        if far > click_max_px:
            kind[m], t0[m], t1[m], button[m], count[m], row[m] = DRAG, bt[i], release_at[i], b, 1, i
            xy[m, 0], xy[m, 1], xy[m, 2], xy[m, 3] = bx[i], by[i], ex, ey
            # without a release the end point is the hold's last pointer row: not twice in the path
            path[m, 0], path[m, 1] = lo, hi if r >= 0 else hi - 1
            m += 1
            continue
        if b == 1 and last >= 0:
            prev = last_press
            if (count[last] < 3 and bt[i] - bt[prev] <= multi_us
                    and _cheb(bx[prev], by[prev], bx[i], by[i]) <= multi_px
                    and _between(cum, pos[prev], pos[i]) == 0):
                count[last] += 1
                kind[last] = CLICK + count[last] - 1
                t1[last] = max(t1[last], release_at[i])
                last_press = i
                continue
        kind[m] = CLICK if b == 1 else RIGHT if b == 3 else MIDDLE if b == 2 else CLICK
        t0[m], t1[m], button[m], count[m], row[m] = bt[i], release_at[i], b, 1, i
        xy[m, 0], xy[m, 1], xy[m, 2], xy[m, 3] = bx[i], by[i], 0, 0
        path[m, 0], path[m, 1] = 0, 0
        if b == 1:
            last, last_press = m, i
        m += 1
    return kind[:m], t0[:m], t1[:m], xy[:m], button[:m], count[:m], row[:m], path[:m]


@njit(**_OPTS)
def scrolls(st, sdx, sdy, sx, sy, pos, cum, gap_us, move_px):
    """Scroll bursts: per burst its first tick's row, last tick's time, sums and ticks."""
    n = len(st)
    first = np.empty(n, np.int64)
    t1 = np.empty(n, np.int64)
    sums = np.zeros((n, 2), np.int64)
    count = np.zeros(n, np.int32)
    m = -1
    for i in range(n):
        if m >= 0:
            f = first[m]
            if (st[i] - t1[m] <= gap_us and _cheb(sx[f], sy[f], sx[i], sy[i]) <= move_px
                    and sdx[i] * sums[m, 0] >= 0 and sdy[i] * sums[m, 1] >= 0
                    and _between(cum, pos[i - 1], pos[i]) == 0):
                t1[m] = st[i]
                sums[m, 0] += sdx[i]
                sums[m, 1] += sdy[i]
                count[m] += 1
                continue
        m += 1
        first[m], t1[m], sums[m, 0], sums[m, 1], count[m] = i, st[i], sdx[i], sdy[i], 1
    m += 1
    return first[:m], t1[:m], sums[:m], count[:m]


@njit(**_OPTS)
def _lower_median(values, n):
    """The lower median of ``values[:n]`` (NONE when n is 0), by quickselect in place: no sort,
    no allocation (a burst's presses are few, but there is one burst every few seconds)."""
    if n == 0:
        return NONE
    k = (n - 1) // 2
    lo, hi = 0, n - 1
    while lo < hi:
        pivot = values[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return values[k]


@njit(**_OPTS)
def keys(kt, cat, hot, name, join, unknown, pos, release, has_release, cum_all, cum_other, gap_us):
    """Type bursts, keys and hotkeys from the classified key presses (docs/actions.md, Keys).

    ``cat``: K_KEY, K_BACKSPACE, K_TYPE, K_EDIT or K_TAP per press; ``hot``: the press is a
    hotkey when it makes a key action; ``name``: its name id; ``unknown``: a typing press
    whose text is unknown (timing-only or editing); ``join``: a press of a held win/alt that
    belongs to the tap action of the press before it (auto-repeat: joins whatever came in
    between, and an interruption in between keeps later presses from joining that action).
    Returns per action: kind, first and last
    press, t_end, count, name id (-1 for a burst), dwell and flight medians (NONE: none), the
    presses whose text a burst keeps: ``kept[kept_lo[a]:kept_hi[a]]``, and whether a burst's
    text is unknown (sticky: a BackSpace deletes the character, not the doubt).
    """
    n = len(kt)
    kind = np.empty(n, np.int8)
    first = np.empty(n, np.int64)
    lastp = np.empty(n, np.int64)
    t1 = np.empty(n, np.int64)
    # empty, not full/zeros: an action's fields are all set when it is made, and the arrays
    # sized for one action per press are mostly never touched (no memset, no page faults)
    count = np.empty(n, np.int32)
    name_out = np.empty(n, np.int64)
    dwell = np.empty(n, np.int64)
    flight = np.empty(n, np.int64)
    kept = np.empty(n, np.int64)
    kept_lo = np.empty(n, np.int64)
    kept_hi = np.empty(n, np.int64)
    unknown_out = np.zeros(n, np.bool_)
    members = np.empty(n, np.int64)  # presses of the open burst
    scratch = np.empty(n, np.int64)
    m = 0
    burst = -1     # action index of the open typing burst
    n_members = 0
    n_kept = 0     # top of the kept stack; the open burst's presses are on top
    prev_key = -1  # action index of the last key / hotkey action
    sealed = False  # the last key action was interrupted while its tap was held: nothing joins it
    for i in range(n):
        c = cat[i]
        if burst >= 0:
            cont = (c == K_TAP
                    or ((c == K_TYPE or c == K_EDIT or (c == K_BACKSPACE and n_kept > kept_lo[burst]))
                        and kt[i] - kt[lastp[burst]] <= gap_us
                        and _between(cum_other, pos[lastp[burst]], pos[i]) == 0))
            if not cont:
                _close_burst(burst, members, n_members, kt, release, has_release, dwell, flight, scratch)
                kept_hi[burst] = n_kept
                burst = -1
            elif c != K_TAP:  # a lone modifier tap is its own action and leaves the burst open
                unknown_out[burst] |= unknown[i]
                if c == K_TYPE:  # an editing press types no character of its own
                    kept[n_kept] = i
                    n_kept += 1
                elif c == K_BACKSPACE:
                    n_kept -= 1
                lastp[burst] = i
                count[burst] += 1
                t1[burst] = max(t1[burst], release[i])
                members[n_members] = i
                n_members += 1
                continue
        if c == K_TYPE:
            kind[m], first[m], lastp[m], t1[m], count[m] = TYPE, i, i, max(kt[i], release[i]), 1
            name_out[m], dwell[m], flight[m] = -1, NONE, NONE
            unknown_out[m] = unknown[i]
            kept_lo[m] = n_kept
            kept[n_kept] = i
            n_kept += 1
            members[0] = i
            n_members = 1
            burst = m
            m += 1
            continue
        if join[i]:  # the held tap key again: one more press of the tap action
            sealed = sealed or _between(cum_all, pos[lastp[prev_key]], pos[i]) != 0
            lastp[prev_key] = i
            count[prev_key] += 1
            t1[prev_key] = max(t1[prev_key], release[i])
            continue
        k = HOTKEY if hot[i] else KEY
        if (prev_key >= 0 and not sealed and name[i] == name_out[prev_key] and kind[prev_key] == k
                and kt[i] - kt[lastp[prev_key]] <= gap_us
                and _between(cum_all, pos[lastp[prev_key]], pos[i]) == 0):
            lastp[prev_key] = i
            count[prev_key] += 1
            t1[prev_key] = max(t1[prev_key], release[i])
            continue
        kind[m], first[m], lastp[m], t1[m], count[m], name_out[m] = k, i, i, max(kt[i], release[i]), 1, name[i]
        dwell[m], flight[m], kept_lo[m], kept_hi[m] = NONE, NONE, n_kept, n_kept
        prev_key = m
        sealed = False
        m += 1
    if burst >= 0:
        _close_burst(burst, members, n_members, kt, release, has_release, dwell, flight, scratch)
        kept_hi[burst] = n_kept
    return (kind[:m], first[:m], lastp[:m], t1[:m], count[:m], name_out[:m], dwell[:m], flight[:m],
            kept[:n_kept].copy(), kept_lo[:m], kept_hi[:m], unknown_out[:m])


@njit(**_OPTS)
def _close_burst(a, members, n, kt, release, has_release, dwell, flight, scratch):
    k = 0
    for j in range(n):
        i = members[j]
        if has_release[i]:
            scratch[k] = release[i] - kt[i]
            k += 1
    dwell[a] = _lower_median(scratch, k)
    k = 0
    for j in range(1, n):
        p = members[j - 1]
        if has_release[p]:
            scratch[k] = kt[members[j]] - release[p]
            k += 1
    flight[a] = _lower_median(scratch, k)


@njit(**_OPTS)
def hovers(pt, px, py, merged_t, cum_all, press_t, held_until, ref_t, ref_xy, hover_us, radius, travel):
    """Rests of the pointer that are ``move`` actions: per move its anchor row and ending row.

    ``press_t``/``held_until``: every press's time and the end of its hold, both sorted;
    ``ref_t``/``ref_xy``: the pointer actions' times and reference points, in time order.
    """
    n = len(pt)
    anchor_out = np.empty(n, np.int64)
    end_out = np.empty(n, np.int64)
    m = 0
    if n == 0:
        return anchor_out[:0], end_out[:0]
    a = 0
    rx, ry, r_time = np.int64(px[0]), np.int64(py[0]), pt[0]
    last_move_t = np.int64(-1) << 62
    mx, my = rx, ry
    k = 0
    for i in range(1, n):
        if _cheb(px[a], py[a], px[i], py[i]) <= radius:
            continue
        ta, te = pt[a], pt[i]
        if te - ta >= hover_us:
            lo = np.searchsorted(merged_t, ta, side="left")
            hi = np.searchsorted(merged_t, te, side="right")
            held = (np.searchsorted(press_t, ta, side="left")
                    - np.searchsorted(held_until, ta, side="left"))
            if cum_all[hi] - cum_all[lo] == 0 and held == 0:
                while k < len(ref_t) and ref_t[k] <= ta:
                    k += 1
                # the reference point: the latest of the first row, the last move, the last pointer action
                cx, cy, ct = rx, ry, r_time
                if last_move_t >= ct:
                    cx, cy, ct = mx, my, last_move_t
                if k > 0 and ref_t[k - 1] >= ct:
                    cx, cy = ref_xy[k - 1, 0], ref_xy[k - 1, 1]
                dx, dy = np.int64(px[a]) - cx, np.int64(py[a]) - cy
                if dx * dx + dy * dy >= travel * travel:
                    anchor_out[m], end_out[m] = a, i
                    m += 1
                    last_move_t, mx, my = ta, np.int64(px[a]), np.int64(py[a])
        a = i
    return anchor_out[:m], end_out[:m]


@njit(**_OPTS)
def movements(pt, px, py, at, ax, ay, r_end, prev_end, has_prev, pause_us, width):
    """Movement features of pointer actions (docs/actions.md, Movement features).

    Per action: its time and point, ``r_end`` (pointer rows ``[0, r_end)`` are R) and the
    previous action's ``t_end``. Returns move_us, move_px, straightness, fitts_id.
    """
    n = len(at)
    move_us = np.zeros(n, np.int64)
    move_px = np.zeros(n, np.float64)
    straight = np.ones(n, np.float64)
    fitts = np.zeros(n, np.float64)
    for a in range(n):
        r = r_end[a]
        lo = np.searchsorted(pt, prev_end[a], side="right") if has_prev[a] else 0
        lo = min(lo, r)
        if lo < r:
            ms = lo
            for j in range(r - 1, lo, -1):
                if pt[j] - pt[j - 1] >= pause_us:
                    ms = j
                    break
            start = ms - 1 if ms > 0 else ms
            move_us[a] = pt[r - 1] - pt[ms]
        elif r > 0:
            start = r - 1
        else:
            continue
        length = 0.0
        fx, fy = float(px[start]), float(py[start])
        lx, ly = fx, fy
        for j in range(start + 1, r):
            length += math.sqrt((px[j] - lx) ** 2 + (py[j] - ly) ** 2)
            lx, ly = float(px[j]), float(py[j])
        length += math.sqrt((ax[a] - lx) ** 2 + (ay[a] - ly) ** 2)
        d = math.sqrt((ax[a] - fx) ** 2 + (ay[a] - fy) ** 2)
        move_px[a] = length
        straight[a] = d / length if length > 0 else 1.0
        fitts[a] = math.log2(d / width + 1.0)
    return move_us, move_px, straight, fitts


@njit(**_OPTS)
def drag_paths(px, py, bounds, x0, y0, x1, y1):
    """Drag paths flattened: per drag its press point, pointer rows ``bounds[d]``, release point."""
    n = len(x0)
    offsets = np.zeros(n + 1, np.int64)
    for d in range(n):
        offsets[d + 1] = offsets[d] + bounds[d, 1] - bounds[d, 0] + 2
    xs = np.empty(offsets[n], np.int32)
    ys = np.empty(offsets[n], np.int32)
    for d in range(n):
        o = offsets[d]
        xs[o], ys[o] = x0[d], y0[d]
        for k in range(bounds[d, 0], bounds[d, 1]):
            o += 1
            xs[o], ys[o] = px[k], py[k]
        xs[o + 1], ys[o + 1] = x1[d], y1[d]
    return offsets, xs, ys
