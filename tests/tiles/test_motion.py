"""Motion: scrolled regions kept as panes (encoder/tiles/motion.py, panes.py, pane_draw.py).

Every frame read back is compared bit for bit with what was written, through random
access, sequential reads and batches, on both backends; the kernels match the reference.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import encoder
from encoder.backends import tile_kernels
from encoder.errors import CorruptShardError
from encoder.tiles import panes as pn
from encoder.tiles.layout import put_varint, zigzag

native = tile_kernels("native")
ref = tile_kernels("reference")


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("seed", range(6))
def test_motion_kernels_match_reference(channels, seed):
    rng = np.random.default_rng(seed * 10 + channels)
    for _ in range(20):
        h, w, t = int(rng.integers(5, 70)), int(rng.integers(5, 70)), int(rng.choice([4, 5, 16]))
        a = rng.integers(0, 3, (h, w * channels), dtype=np.uint8)
        b = a.copy()
        b[rng.random(b.shape) < 0.01] ^= 1
        strip = int(rng.integers(1, 9))
        assert np.array_equal(native.row_hashes(a, channels, 0, strip, w // strip, 0, h),
                              ref.row_hashes(a, channels, 0, strip, w // strip, 0, h))
        todo = rng.random((h - 1, w // strip)) < 0.5   # only these strips, the rest of out kept
        kept = rng.integers(0, 2**63, todo.shape, dtype=np.uint64)
        got = native.row_hashes(a, channels, 0, strip, w // strip, 1, h, out=kept.copy(), todo=todo)
        assert np.array_equal(got, ref.row_hashes(a, channels, 0, strip, w // strip, 1, h, out=kept.copy(),
                                                  todo=todo))
        assert np.array_equal(got[~todo], kept[~todo])
        assert np.array_equal(native.col_hashes(a, channels, 1, strip, (h - 1) // strip, 1, w),
                              ref.col_hashes(a, channels, 1, strip, (h - 1) // strip, 1, w))
        assert np.array_equal(native.col_hashes(a, channels, 1, strip, (h - 1) // strip, 1, w, 3),
                              ref.col_hashes(a, channels, 1, strip, (h - 1) // strip, 1, w, 3))
        y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
        y1, x1, step = int(rng.integers(y0, h + 1)), int(rng.integers(x0, w + 1)), int(rng.integers(1, 9))
        assert np.array_equal(native.col_sums(a, channels, y0, y1, step, x0, x1),
                              ref.col_sums(a, channels, y0, y1, step, x0, x1))
        lines = rng.integers(0, 6, (h, 3)).astype(np.uint64)  # repeats: only unique lines vote
        moved = np.roll(lines, int(rng.integers(-5, 6)), axis=0)
        assert np.array_equal(native.shift_votes(moved, lines), ref.shift_votes(moved, lines))
        dx, dy = int(rng.integers(-4, 5)), int(rng.integers(-4, 5))
        x0, y0, x1, y1 = max(0, dx), max(0, dy), min(w, w + dx), min(h, h + dy)
        if x1 > x0 and y1 > y0:
            cx, cy = int(rng.integers(x0 - t + 1, x0 + 1)), int(rng.integers(y0 - t + 1, y0 + 1))
            flags = [np.zeros(((y1 - cy + t - 1) // t, (x1 - cx + t - 1) // t), np.uint8) for _ in "ab"]
            native.compare_shifted(a, b, channels, t, (x0, y0, x1, y1), dx, dy, cx, cy, flags[0])
            ref.compare_shifted(a, b, channels, t, (x0, y0, x1, y1), dx, dy, cx, cy, flags[1])
            assert np.array_equal(*flags)
            # with a copy of a rectangle into prev in the same pass (rows in the move's order):
            # the flags as if compared first, prev as if copied after
            kx0, kx1 = sorted(rng.integers(0, w + 1, 2).tolist())
            ky0, ky1 = sorted(rng.integers(0, h + 1, 2).tolist())
            copy = (kx0, ky0, kx1, ky1) if rng.random() < 0.8 else (x0, y0, x1, y1)
            flags2, olds = [np.zeros_like(flags[0]) for _ in "ab"], [b.copy(), b.copy()]
            native.compare_shifted(a, olds[0], channels, t, (x0, y0, x1, y1), dx, dy, cx, cy, flags2[0], copy=copy)
            ref.compare_shifted(a, olds[1], channels, t, (x0, y0, x1, y1), dx, dy, cx, cy, flags2[1], copy=copy)
            assert np.array_equal(flags2[0], flags[0]) and np.array_equal(flags2[1], flags[0])
            assert np.array_equal(*olds)
            expected = b.copy()
            expected[ky0:ky1, kx0 * channels:kx1 * channels] = a[ky0:ky1, kx0 * channels:kx1 * channels]
            if copy == (kx0, ky0, kx1, ky1):
                assert np.array_equal(olds[0], expected)
            rows, cols = rng.integers(-2, 6, 9).astype(np.int32), rng.integers(-2, 6, 9).astype(np.int32)
            assert np.array_equal(native.gather_cells(a, channels, t, cx, cy, rows, cols),
                                  ref.gather_cells(a, channels, t, cx, cy, rows, cols))
        n = ((h + t - 1) // t) * ((w + t - 1) // t)
        positions = np.unique(rng.integers(0, n, 6)).astype(np.int32)
        tiles = rng.integers(0, 256, (len(positions), t * t * channels), dtype=np.uint8)
        out = [a.copy(), a.copy()]
        native.scatter(out[0], channels, t, positions, tiles)
        ref.scatter(out[1], channels, t, positions, tiles)
        assert np.array_equal(*out)
        kept = [b.copy(), b.copy()]
        assert np.array_equal(native.stage(a, kept[0], channels, t, copy=False),
                              ref.stage(a, kept[1], channels, t, copy=False))
        assert np.array_equal(kept[0], b) and np.array_equal(kept[1], b)



def test_column_sums_of_full_bytes_and_bad_spans():
    a = np.full((1080, 1920 * 4), 255, np.uint8)
    assert np.array_equal(native.col_sums(a, 4, 0, 1080, 1, 0, 1920), np.full(1920, 1080 * 4 * 255))
    assert np.array_equal(native.col_sums(a, 4, 7, 1080, 8, 100, 1900), ref.col_sums(a, 4, 7, 1080, 8, 100, 1900))
    for args in [(0, 1081, 1, 0, 10), (-1, 5, 1, 0, 10), (5, 4, 1, 0, 10), (0, 5, 0, 0, 10), (0, 5, 1, 0, 1921),
                 (0, 5, 1, 3, 2), (0, 5, 1, -1, 2)]:
        with pytest.raises(ValueError, match="outside the image"):
            native.col_sums(a, 4, *args)


@pytest.mark.parametrize("dx,dy", [(0, 5), (0, -5), (3, 0), (-3, 0), (2, 7), (-2, -7), (0, 0)])
def test_compare_shifted_copies_prev_after_reading_it(dx, dy):
    """A scroll: prev holds the image moved by (-dx, -dy) but for a few pixels, and the copy
    covers the rows the comparison reads. Copied in the wrong order, a row would be compared
    with the new content and flag cells that did not change."""
    rng = np.random.default_rng((dx + 10) * 31 + dy + 10)
    h, w, ch, t = 64, 48, 4, 8
    image = rng.integers(0, 255, (h, w * ch), dtype=np.uint8)
    prev = rng.integers(0, 255, (h, w * ch), dtype=np.uint8)
    x0, y0, x1, y1 = max(0, dx), max(0, dy), min(w, w + dx), min(h, h + dy)
    prev[y0 - dy:y1 - dy, (x0 - dx) * ch:(x1 - dx) * ch] = image[y0:y1, x0 * ch:x1 * ch]
    for y, x in rng.integers(0, (h - abs(dy), w - abs(dx)), (4, 2)).tolist():
        prev[y0 - dy + y, (x0 - dx + x) * ch] ^= 0xFF
    for kernels in (native, ref):
        flags = [np.zeros(((h + t - 1) // t, (w + t - 1) // t), np.uint8) for _ in "ab"]
        kernels.compare_shifted(image, prev.copy(), ch, t, (x0, y0, x1, y1), dx, dy, 0, 0, flags[0])
        old = prev.copy()
        kernels.compare_shifted(image, old, ch, t, (x0, y0, x1, y1), dx, dy, 0, 0, flags[1], copy=(0, 0, w, h))
        assert 1 <= flags[0].sum() <= 4
        assert np.array_equal(*flags)
        assert np.array_equal(old, image)

def scrolling(seed: int, n: int = 70, height: int = 300, width: int = 420, channels: int = 4):
    """A desktop with two scrolling views (one reaching the screen's right edge), edits,
    page changes, still frames and a big jump, like a browser beside a terminal."""
    rng = np.random.default_rng(seed)
    docs = [rng.integers(0, 4, (2000, 250, channels), dtype=np.uint8) * 60,
            rng.integers(0, 4, (2000, 120, channels), dtype=np.uint8) * 80]
    for d in docs:
        d[::9] = 255  # rows that repeat (blank lines) must not vote
    back = rng.integers(0, 255, (height, width, channels), dtype=np.uint8)
    offsets, frames = [0, 0], []
    for _ in range(n):
        f = back.copy()
        for v, (view, (y0, x0)) in enumerate(zip(docs, ((30, 41), (60, 300)))):
            if rng.random() < 0.6:
                offsets[v] = int(np.clip(offsets[v] + rng.integers(-45, 70), 0, 1700))
            if rng.random() < 0.03:
                offsets[v] = int(rng.integers(0, 1700))
            if rng.random() < 0.04:
                docs[v] = rng.integers(0, 4, view.shape, dtype=np.uint8) * 60
            y0, x0 = min(y0, height // 4), min(x0, width - docs[v].shape[1])
            rows = min(240, height - y0 - 20)
            f[y0:y0 + rows, x0:x0 + docs[v].shape[1]] = docs[v][offsets[v]:offsets[v] + rows]
        if rng.random() < 0.3:  # a cursor, a highlight
            y, x = rng.integers(0, height - 8), rng.integers(0, width - 8)
            f[y:y + 6, x:x + 5] = rng.integers(0, 255, channels, dtype=np.uint8)
        frames.append(f if channels > 1 else f[..., 0].copy())
    return frames


def write(path, frames, **options):
    with encoder.ShardWriter(path) as w:
        w.configure_frames(**options)
        for i, f in enumerate(frames):
            w.add_frame(i * 100_000, f)
        return w._frame_writer.report()


def check(path, frames, seed=0):
    r = encoder.ShardReader(path)
    rng = np.random.default_rng(seed)
    for i in rng.permutation(len(frames))[:25].tolist():
        r.drop_frame_cache()
        assert np.array_equal(r.frame(i), frames[i]), f"frame {i} (random access)"
    for i, f in enumerate(r.iter_frames()):
        assert np.array_equal(f, frames[i]), f"frame {i} (sequential)"
    for start in (0, 5):
        picks = list(range(start, len(frames), 4))
        for j, f in zip(picks, r.frames(picks)):
            assert np.array_equal(f, frames[j]), f"frame {j} (batch)"
    lo = len(frames) // 3
    for i, f in enumerate(r.iter_frames(lo, lo + 20), lo):
        assert np.array_equal(f, frames[i]), f"frame {i} (sequential from the middle)"


@pytest.mark.parametrize("tile", [16, 48, 80])
def test_remembered_and_skipped_row_hashes_are_the_frames_own(tmp_path, monkeypatch, tile):
    """The motion search hashes only strips a changed tile touches and remembers the rest from
    earlier frames: every hash it votes with equals the hash computed afresh."""
    from encoder.tiles.motion import STRIP, Motion
    searched = []
    row_hashes = Motion._row_hashes

    def checked(self, rows, prev, dirty, y0, y1, s0, s1):
        cur, old = row_hashes(self, rows, prev, dirty, y0, y1, s0, s1)
        assert np.array_equal(cur, native.row_hashes(rows, self.channels, s0 * STRIP, STRIP, s1 - s0, y0, y1))
        assert np.array_equal(old, native.row_hashes(prev, self.channels, s0 * STRIP, STRIP, s1 - s0, y0, y1))
        searched.append(y0)
        return cur, old
    monkeypatch.setattr(Motion, "_row_hashes", checked)
    monkeypatch.setattr("encoder.tiles.motion.MIN_TILES", 4)  # big tiles: few of them change
    write(tmp_path / "m.enc", scrolling(1, n=30), tile=tile)
    assert len(searched) >= 3


@pytest.mark.parametrize("seed", range(4))
def test_scrolling_round_trips_and_saves(tmp_path, seed):
    frames = scrolling(seed)
    # zstd-6 on both sides: at the default level 3 the plain shard's pages find more of the
    # scrolled rows again by themselves (motion saves 34-40 % there, 50-53 % at level 6)
    report = write(tmp_path / "m.enc", frames, block_frames=16, level=6)
    check(tmp_path / "m.enc", frames, seed)
    assert report["motion_frames"] > 10 and report["panes_created"] >= 2
    write(tmp_path / "plain.enc", frames, block_frames=16, motion=False, level=6)
    check(tmp_path / "plain.enc", frames, seed)
    assert os.path.getsize(tmp_path / "m.enc") < 0.6 * os.path.getsize(tmp_path / "plain.enc")


@pytest.mark.parametrize("limit", [2 << 20, 40 * 1024])
def test_staged_tiles_reuse_one_buffer(tmp_path, monkeypatch, limit):
    """A frame's staged tiles (base tiles, pane cells, refreshed tiles) come from one buffer
    reused frame after frame, up to its limit; beyond it (a full frame, a large scroll) they
    are new arrays. The shard is the same byte for byte as without the buffer, and with a
    frame thread nothing is reused (it still holds a frame's tiles while the next is staged)."""
    from encoder.tiles.staging import Staging
    frames = scrolling(3, n=40)
    takes = []
    out = Staging._out

    def recording(self, count, size):
        view = out(self, count, size)
        takes.append((self.limit, None if view is None else view.base))
        return view

    def shard(path, staging_bytes, background=False):
        monkeypatch.setattr(Staging.__init__, "__defaults__", (staging_bytes,))
        with encoder.ShardWriter(path, metadata={"clock": {"source": "test", "t0_us": 0, "unix_us_at_t0": 0}},
                                 flush_seconds=None, background=background) as w:
            w.configure_frames(page_bytes=64 << 10, refresh_frames=3, background=background)
            for i, f in enumerate(frames):
                w.add_frame(i * 100_000, f)
        check(path, frames)
        return path.read_bytes()
    monkeypatch.setattr(Staging, "_out", recording)
    reused_shard = shard(tmp_path / "a.enc", limit)
    reused = [base for _, base in takes if base is not None]
    assert len(reused) > 10 and len({id(b) for b in reused}) == 1 and len(reused[0]) == limit
    assert (len(reused) < len(takes)) == (limit < 2 << 20)   # a full frame of 300x420 is 504 KB
    takes.clear()
    assert shard(tmp_path / "b.enc", 0) == reused_shard and not any(base is not None for _, base in takes)
    takes.clear()
    shard(tmp_path / "c.enc", limit, background=True)
    assert takes and {lim for lim, _ in takes} == {0} and not any(base is not None for _, base in takes)


@pytest.mark.parametrize("options", [dict(background=False), dict(tile=8, block_frames=7), dict(_hash_mask=0),
                                     dict(page_bytes=64 << 10, page_budget=4, refresh_frames=3),
                                     dict(backend="reference")])
def test_scrolling_with_other_settings(tmp_path, options):
    frames = scrolling(11, n=40)
    write(tmp_path / "m.enc", frames, **options)
    check(tmp_path / "m.enc", frames)


@pytest.mark.parametrize("channels", [1, 3])
def test_scrolling_other_channels(tmp_path, channels):
    frames = scrolling(5, n=30, channels=channels)
    write(tmp_path / "m.enc", frames)
    check(tmp_path / "m.enc", frames)


def test_reference_backend_writes_the_same_shard(tmp_path):
    frames = scrolling(3, n=30)
    a = write(tmp_path / "a.enc", frames, background=False)
    b = write(tmp_path / "b.enc", frames, background=False, backend="reference")
    assert (a["motion_frames"], a["pane_tiles"], a["new_tiles"]) == (b["motion_frames"], b["pane_tiles"], b["new_tiles"])
    ra, rb = encoder.ShardReader(tmp_path / "a.enc"), encoder.ShardReader(tmp_path / "b.enc")
    assert ra.read("frame").equals(rb.read("frame"))


def test_two_screens_and_a_size_change(tmp_path):
    frames = scrolling(7, n=30)
    small = scrolling(8, n=30, height=260, width=400)
    with encoder.ShardWriter(tmp_path / "m.enc") as w:
        w.configure_frames(block_frames=8)
        for i in range(30):
            w.add_frame(i, frames[i], screen=0)
            w.add_frame(i, small[i] if i < 15 else frames[i], screen=1)
    r = encoder.ShardReader(tmp_path / "m.enc")
    for i in range(30):
        assert np.array_equal(r.frame(i, screen=0), frames[i])
        assert np.array_equal(r.frame(i, screen=1), small[i] if i < 15 else frames[i])
    assert all(np.array_equal(f, frames[i]) for i, f in enumerate(r.iter_frames(screen=0)))


def test_a_scroll_is_found_by_any_number_of_pixels(tmp_path):
    rng = np.random.default_rng(2)
    doc = rng.integers(0, 255, (900, 300, 4), dtype=np.uint8)
    frames = [np.zeros((400, 400, 4), np.uint8) for _ in range(4)]
    for f, y in zip(frames, (0, 7, 7 + 33, 7 + 33 - 50)):
        f[50:350, 50:350] = doc[100 + y:400 + y]
    report = write(tmp_path / "m.enc", frames)
    check(tmp_path / "m.enc", frames)
    assert report["motion_frames"] == 3 and report["panes_created"] == 1
    assert report["pane_tiles"] < 3 * 21 * 3  # the rows that came into view, not the view


@pytest.mark.parametrize("channels", [4, 3])
def test_sequential_reads_move_the_scrolled_pixels(tmp_path, monkeypatch, channels):
    """A view scrolls down and up by small and large steps while a cursor blinks in it and a
    clock ticks beside it: a sequential read moves the pixels the view already shows
    (PaneCanvas.shift) instead of redrawing it, and every frame stays exact."""
    from encoder.tiles import pane_draw
    moved = []
    shift = pane_draw.PaneCanvas.shift

    def counting(self, out, panes, ch):
        shift(self, out, panes, ch)
        moved.append(len(self.moved))
    monkeypatch.setattr(pane_draw.PaneCanvas, "shift", counting)
    rng = np.random.default_rng(9)
    doc = rng.integers(0, 255, (3000, 330, channels), dtype=np.uint8)
    back = np.full((420, 520, channels), 70, np.uint8)
    frames, y = [], 400
    for i, step in enumerate([0, 5, 37, -20, 70, -3, 0, 16, 1, -64, 33, 9, -41, 0, 12]):
        y += step
        f = back.copy()
        f[40:380, 60:390] = doc[y:y + 340]
        if i % 2:  # a cursor in the view and a clock beside it
            f[200:214, 100 + 3 * i:102 + 3 * i] = 255
        f[10:20, 430:430 + 4 * i] = 200
        frames.append(f)
    report = write(tmp_path / "m.enc", frames)
    check(tmp_path / "m.enc", frames)
    assert report["panes_created"] == 1
    assert sum(moved) >= 8  # the read moved pixels for most of the scrolls


def test_a_pane_of_an_old_layout_gives_way(tmp_path):
    """A view scrolls (a pane), then its window moves and the view scrolls again where it now
    lies, over the old pane's area: the old pane is dropped and the new place gets a pane."""
    rng = np.random.default_rng(6)
    doc = rng.integers(0, 255, (3000, 300, 4), dtype=np.uint8)
    back = np.full((480, 640, 4), 90, np.uint8)
    back[440:] = rng.integers(0, 255, (40, 640, 4), dtype=np.uint8)  # a panel
    frames, y = [], 0
    for i in range(16):
        x0 = 40 if i < 6 else 300  # the window moves right after frame 5
        y += 0 if i in (0, 6) else 37
        f = back.copy()
        f[60:420, x0:x0 + 300] = doc[y:y + 360]
        frames.append(f)
    report = write(tmp_path / "m.enc", frames, block_frames=8)
    check(tmp_path / "m.enc", frames)
    assert report["panes_created"] == 2 and report["panes_dissolved"] >= 1
    assert report["motion_frames"] >= 12   # every scroll but the first after the move


def test_a_horizontal_scroll_is_found(tmp_path):
    rng = np.random.default_rng(4)
    sheet = rng.integers(0, 255, (260, 1200, 3), dtype=np.uint8)  # a wide spreadsheet
    frames = [np.full((300, 420, 3), 40, np.uint8) for _ in range(5)]
    for f, x in zip(frames, (0, 13, 13 + 70, 13 + 70 - 29, 500)):
        f[20:280, 10:400] = sheet[:, x:x + 390]
    report = write(tmp_path / "m.enc", frames)
    check(tmp_path / "m.enc", frames)
    assert report["motion_frames"] == 3 and report["panes_created"] == 1  # the jump past the view is no motion


def bad(message):
    return CorruptShardError(message)


def section(*records) -> np.ndarray:
    out = bytearray()
    put_varint(out, len(records))
    for r in records:
        out += bytes(r)
    return np.frombuffer(bytes(out), np.uint8)


def pane_record(number=0, x0=0, y0=0, w=20, h=20, cx=0, cy=0, grid=None, rows=None, cols=None):
    r0, c0, nr, nc = pn.window_of((x0, y0, x0 + w, y0 + h), cx, cy, 16)
    out = bytearray()
    put_varint(out, number)
    out.append(1)
    for v in (zigzag(x0), zigzag(y0), w, h, zigzag(cx), zigzag(cy), zigzag(r0), zigzag(c0),
              nr if rows is None else rows, nc if cols is None else cols):
        put_varint(out, v)
    blob = native.encode_full(np.zeros(nr * nc, np.int64)) if grid is None else grid
    put_varint(out, len(blob))
    return out + blob


@pytest.mark.parametrize("record, message", [
    (pane_record(w=200), "outside"),
    (pane_record(rows=9), "window"),
    (pane_record(grid=native.encode_delta(np.zeros(0, np.int32), np.zeros(0, np.int64))), "delta"),
    (pane_record(grid=native.encode_full(np.zeros(5, np.int64))), "bytes left"),
    (pane_record(grid=native.encode_full(np.zeros(3, np.int64))), "truncated"),
    (pane_record(number=300), "255"),
    (pane_record()[:-3], "truncated|longer"),
    (bytes([0, 0]), "not there"),
    (bytes([0, 7]), "unknown pane op"),
])
def test_bad_pane_sections_raise(record, message):
    with pytest.raises(CorruptShardError, match=message):
        pn.apply_section(section(record), {}, tile_kernels("native"), 10, 100, 100, 16, bad)


def test_a_good_section_and_its_delta():
    k = tile_kernels("native")
    full = section(pane_record(cx=3, cy=-5))
    panes = pn.apply_section(full, {}, k, 10, 100, 100, 16, bad)
    assert panes[0].rect == (0, 0, 20, 20) and panes[0].ids.shape == (2, 3)
    r0, c0, rows, cols = pn.window_of((0, 0, 20, 20), 3, -20, 16)
    assert (r0, c0, rows, cols) == (1, -1, 2, 3)
    moved = pn.Pane((0, 0, 20, 20), 3, -20, r0, c0, np.arange(6, dtype=np.int64).reshape(2, 3))
    blob = pn.encode_section([(0, moved)], panes, k)
    again = pn.apply_section(np.frombuffer(blob, np.uint8), panes, k, 10, 100, 100, 16, bad)
    assert np.array_equal(again[0].ids, moved.ids) and again[0].cy == -20
    removed = pn.apply_section(np.frombuffer(pn.encode_section([(0, None)], again, k), np.uint8), again, k, 10,
                               100, 100, 16, bad)
    assert removed == {}


def test_changes_without_any_unique_row_are_not_motion(tmp_path):
    """A big change made of repeated rows (a flat colour, stripes) gives no vote at all."""
    frames = [np.zeros((200, 300, 4), np.uint8), np.full((200, 300, 4), 9, np.uint8)]
    frames.append(frames[0].copy())
    frames[2][::2] = 200
    report = write(tmp_path / "m.enc", frames)
    check(tmp_path / "m.enc", frames)
    assert report["motion_frames"] == 0


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_draw_cells_matches_reference(channels):
    rng = np.random.default_rng(channels)
    tile, tiles = 8, 12
    pool = rng.integers(0, 256, (2, 6 * tile * tile * channels), dtype=np.uint8)
    firsts, slots = np.array([0, 6], np.int64), np.array([1, 0], np.int32)
    ids = rng.integers(0, tiles, 20).astype(np.int64)
    for _ in range(20):
        out = [rng.integers(0, 256, (30, 41 * channels), dtype=np.uint8)]
        out.append(out[0].copy())
        gx, gy = int(rng.integers(-10, 5)), int(rng.integers(-10, 5))
        rect = (int(rng.integers(0, 10)), int(rng.integers(0, 10)), int(rng.integers(20, 42)), int(rng.integers(15, 31)))
        cells = np.unique(rng.integers(0, 20, 9)).astype(np.int64)
        got = [k.draw_cells(o, ids, cells, 5, tile, channels, gx, gy, rect, firsts, slots, pool)
               for k, o in ((native, out[0]), (ref, out[1]))]
        assert got[0] == got[1] and np.array_equal(*out)



@pytest.mark.parametrize("count", [5, 64, 65, 400])
def test_pane_cells_over_written_base_tiles(count):
    """Which cells of a pane lie over base tiles just written: a few tiles by their rectangles,
    many through a summed-area table; both as a pixel-by-pixel check finds them."""
    from encoder.tiles.pane_draw import _Written
    from encoder.tiles.panes import Pane, window_of
    rng = np.random.default_rng(count)
    tile, height, width = 16, 230, 330
    rows, cols = -(-height // tile), -(-width // tile)
    for _ in range(20):
        positions = np.sort(rng.choice(rows * cols, min(count, rows * cols), replace=False))
        x0, y0 = int(rng.integers(0, 200)), int(rng.integers(0, 150))
        rect = (x0, y0, x0 + int(rng.integers(1, width - x0)), y0 + int(rng.integers(1, height - y0)))
        cx, cy = x0 - int(rng.integers(0, 40)), y0 - int(rng.integers(0, 40))
        r0, c0, n, m = window_of(rect, cx, cy, tile)
        pane = Pane(rect, cx, cy, r0, c0, np.zeros((n, m), np.int64))
        got = _Written(positions, cols, tile, height).cells(pane)
        written = np.zeros((rows * tile, cols * tile), bool)
        for p in positions.tolist():
            written[p // cols * tile:(p // cols + 1) * tile, p % cols * tile:(p % cols + 1) * tile] = True
        want = np.zeros((n, m), bool)
        for i in range(n):
            for j in range(m):
                ya, xa = max(cy + (r0 + i) * tile, rect[1]), max(cx + (c0 + j) * tile, rect[0])
                yb, xb = min(cy + (r0 + i + 1) * tile, rect[3]), min(cx + (c0 + j + 1) * tile, rect[2])
                want[i, j] = written[ya:yb, xa:xb].any()
        assert np.array_equal(got, want)


def test_refreshes_count_the_pages_of_pane_cells(tmp_path, monkeypatch):
    """A pane's cells keep the ids of the pages they scrolled in with; a refresh counts those
    pages too and stores the cells of the least used ones again (from the content store), so a
    random frame with panes needs fewer pages. Measured against the refresh that ignores panes."""
    from encoder.tiles import page_store
    from encoder.tiles.panes import all_ids

    def pages_with_panes(path):
        fr = encoder.ShardReader(path)._frames()
        store = next(iter(fr.pages.stores.values()))
        counts = []
        for i in range(len(frames)):
            ids, panes = fr.grid(fr.index.row(i, 0))
            if panes:
                counts.append(len(np.unique(np.searchsorted(store.firsts, all_ids(ids, panes), "right") - 1)))
        return np.array(counts)
    frames = scrolling(2, n=120)
    options = dict(page_bytes=16 * 16 * 4 * 200, page_budget=5, refresh_frames=4, background=False)
    counted = write(tmp_path / "counted.enc", frames, **options)
    check(tmp_path / "counted.enc", frames)
    plan = page_store.PageStores.plan_refresh
    monkeypatch.setattr(page_store.PageStores, "plan_refresh",
                        lambda self, store_id, store, screen, full, panes: plan(self, store_id, store, screen, full, {}))
    ignored = write(tmp_path / "ignored.enc", frames, **options)
    check(tmp_path / "ignored.enc", frames)
    a, b = pages_with_panes(tmp_path / "counted.enc"), pages_with_panes(tmp_path / "ignored.enc")
    assert len(a) > 50 and counted["refreshed_tiles"] > ignored["refreshed_tiles"]
    assert np.percentile(a, 90) <= options["page_budget"] + 2 < np.percentile(b, 90)  # 7 against 11 when written
    assert a.max() < b.max() and a.mean() < b.mean() - 1


def test_a_window_dragged_diagonally_is_found(tmp_path):
    """A window moved along both axes at once (23 px right, 11 down, frame after frame): dx from
    the column profiles, dy from the vote on strips moved by dx (a window 320 px wide holds the
    3 strips a vote needs at any alignment); its pixels are compared exactly."""
    rng = np.random.default_rng(4)
    back = np.kron(rng.integers(0, 255, (50, 80, 4), dtype=np.uint8), np.ones((8, 8, 1), np.uint8))  # 400 x 640
    # columns that differ (a window's layout) and rows that differ (its text)
    window = (rng.integers(0, 200, (1, 320, 4)) + rng.integers(0, 50, (180, 320, 4))).astype(np.uint8)
    frames, x, y = [], 30, 20
    for i in range(24):
        frame = back.copy()
        if 4 <= i < 16:
            x, y = x + 23, y + 11
        frame[y:y + 180, x:x + 320] = window
        frames.append(frame)
    moved = write(tmp_path / "m.enc", frames, background=False)
    check(tmp_path / "m.enc", frames)
    plain = write(tmp_path / "plain.enc", frames, background=False, motion=False)
    assert moved["motion_frames"] >= 6 and moved["new_tiles"] < plain["new_tiles"]
    assert os.path.getsize(tmp_path / "m.enc") < 0.85 * os.path.getsize(tmp_path / "plain.enc")  # 0.73 when written
    found = []
    from encoder.tiles.motion import Motion
    motion = Motion(native, 400, 640, 4, 16)
    for before, after in zip(frames[4:15], frames[5:16]):
        found.append(motion._diagonal(after.reshape(400, -1), before.reshape(400, -1), (0, 0, 640, 400)))
    assert all(f is not None and f[1:] == (23, 11) for f in found), found
