"""Frames through a shard: exact round trips, random access, bad input (no X server needed)."""
from __future__ import annotations

import io
import os
import time

import numpy as np
import pytest

from encoder import ShardReader, ShardWriter
from encoder.errors import EncoderError, LimitError, SchemaError

CLOCK = {"clock": {"source": "test", "t0_us": 0, "unix_us_at_t0": 0}}


def session(rng, count, height, width, channels, levels=4):
    """A desktop-like sequence: a static background with small edits and a moving window."""
    shape = (height, width) if channels == 1 else (height, width, channels)
    image = rng.integers(0, levels, shape, dtype=np.uint8)
    window = rng.integers(0, 256, (min(9, height), min(13, width)) + shape[2:], dtype=np.uint8)
    frames, rects = [], []
    for i in range(count):
        image = image.copy()
        if i % 5 == 4:  # no change at all
            rects.append([])
        elif i % 3 == 0:  # the window moves (content seen before, elsewhere)
            y, x = rng.integers(0, height - window.shape[0] + 1), rng.integers(0, width - window.shape[1] + 1)
            image[y:y + window.shape[0], x:x + window.shape[1]] = window
            rects.append([(int(x), int(y), window.shape[1], window.shape[0])])
        else:  # typing: a few pixels
            y, x = rng.integers(0, height), rng.integers(0, width)
            image[y:y + 2, x:x + 3] = rng.integers(0, 256, image[y:y + 2, x:x + 3].shape)
            rects.append([(int(x), int(y), 3, 2)])
        frames.append(image)
    return frames, rects


def write(frames, *, screen=0, path=None, times=None, rects=None, writer_kw=None, **options):
    target = path if path is not None else io.BytesIO()
    kw = dict(metadata=CLOCK, flush_seconds=None)
    kw.update(writer_kw or {})
    with ShardWriter(target, **kw) as w:
        if options:
            w.configure_frames(**options)
        for i, image in enumerate(frames):
            w.add_frame(times[i] if times is not None else i * 100_000, image, screen,
                        None if rects is None else rects[i])
    return target.getvalue() if path is None else path


def check_all(reader, frames, screen=0):
    assert reader.frame_count(screen) == len(frames)
    for i, image in enumerate(frames):
        got = reader.frame(i, screen)
        assert got.shape == image.shape and got.dtype == np.uint8
        assert np.array_equal(got, image), i


@pytest.mark.parametrize("shape", [(1, 1), (17, 33), (32, 48), (70, 45)])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_round_trip_sizes_and_channels(shape, channels):
    frames, _ = session(np.random.default_rng(sum(shape) * channels), 12, *shape, channels)
    reader = ShardReader(write(frames))
    check_all(reader, frames)
    assert reader.frame_info(0)["format"] == {1: "gray", 3: "rgb", 4: "bgra"}[channels]


@pytest.mark.parametrize("tile", [4, 7, 16, 32])
def test_round_trip_tile_sizes(tile):
    frames, _ = session(np.random.default_rng(tile), 15, 61, 77, 4)
    check_all(ShardReader(write(frames, tile=tile)), frames)


def test_rgba_is_stored_as_given():
    frames, _ = session(np.random.default_rng(2), 5, 20, 30, 4)
    data = write(frames, pixel_format="rgba")
    reader = ShardReader(data)
    check_all(reader, frames)
    assert reader.frame_info(3)["format"] == "rgba"


def test_alpha_channel_is_kept():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (33, 40, 4), dtype=np.uint8)
    other = image.copy()
    other[..., 3] ^= 0xFF  # only alpha differs
    check_all(ShardReader(write([image, other, image])), [image, other, image])


def test_size_change_and_format_change_mid_session():
    rng = np.random.default_rng(5)
    a, _ = session(rng, 4, 40, 50, 4)
    b, _ = session(rng, 4, 23, 71, 4)
    c, _ = session(rng, 3, 23, 71, 3)
    frames = a + b + a[:2] + c
    check_all(ShardReader(write(frames, block_frames=5)), frames)


@pytest.mark.parametrize("frame_thread", [False, True])
def test_several_screens_interleaved(frame_thread):
    rng = np.random.default_rng(6)
    s0, _ = session(rng, 20, 40, 60, 4)
    s1, _ = session(rng, 13, 25, 31, 4)
    s2, _ = session(rng, 7, 19, 19, 1)
    out = io.BytesIO()
    with ShardWriter(out, metadata=CLOCK, flush_seconds=None) as w:
        w.configure_frames(block_frames=6, tile=8, background=frame_thread)
        for i in range(20):
            w.add_frame(i * 1000, s0[i], screen=0)
            if i < len(s1):
                w.add_frame(i * 1000 + 1, s1[i], screen=1)
            if i < len(s2):
                w.add_frame(i * 1000 + 2, s2[i], screen=7)
    reader = ShardReader(out.getvalue())
    assert reader.frame_screens() == [0, 1, 7]
    for screen, frames in ((0, s0), (1, s1), (7, s2)):
        check_all(reader, frames, screen)
    assert reader.frame_times(1).tolist() == [i * 1000 + 1 for i in range(13)]
    stats = reader.frame_stats()
    assert stats["frames_per_screen"] == {0: 20, 1: 13, 7: 7} and stats["screens"] == 3
    assert stats["frames"] == 40 and stats["unique_tiles"] > 0 and stats["bytes_per_frame"] > 0
    assert stats["screen_info"][1]["width"] == 31 and stats["screen_info"][7]["format"] == "gray"
    assert stats["tile_px"] == 8 and stats["stored_bytes"] == stats["page_bytes"] + stats["grid_bytes"]


def test_changed_hint_skips_the_rest_of_the_frame():
    frames, rects = session(np.random.default_rng(8), 30, 50, 70, 4)
    exact = write(frames, writer_kw={"background": False})
    hinted = write(frames, rects=rects, writer_kw={"background": False})
    assert hinted == exact  # the hint covers every change: same shard
    check_all(ShardReader(hinted), frames)
    # pixels changed outside the hint are not read (the documented contract)
    lied = [f.copy() for f in frames[:2]]
    lied[1][0, 0] ^= 1
    reader = ShardReader(write(lied, rects=[None, [(40, 40, 1, 1)]]))
    assert np.array_equal(reader.frame(1), lied[0])


def test_unchanged_frames_reach_the_frame_thread_in_batches():
    """Waking the frame thread costs more than an unchanged frame: they travel 16 at a time."""
    image = np.random.default_rng(3).integers(0, 255, (40, 64, 4), np.uint8)
    sink = io.BytesIO()
    writer = ShardWriter(sink)
    writer.configure_frames(background=True)
    writer.add_frame(0, image)
    frames = writer._frame_writer
    puts = []
    put = frames.queue.put
    frames.queue.put = lambda item: (puts.append(item), put(item))
    for k in range(1, 49):
        writer.add_frame(k, image.copy())
    writer.close()
    batches = [len(item) for item in puts if isinstance(item, list)]
    assert batches[:3] == [16, 16, 16] and sum(batches) == 48
    reader = ShardReader(sink.getvalue())
    assert reader.frame_count() == 49 and np.array_equal(reader.frame(48), image)


def test_frame_rows_are_flushed_while_no_frame_comes():
    """Without a frame thread, the shard writer's own writes flush frame rows that waited
    ``flush_seconds`` (a paused screen adds no frame to do it)."""
    image = np.random.default_rng(4).integers(0, 255, (40, 64, 4), np.uint8)
    with ShardWriter(io.BytesIO(), metadata=CLOCK, flush_seconds=1.0) as w:
        w.add_frame(0, image)
        w.write("command", {"t": [1], "kind": ["shell"], "text": ["ls"]})
        assert w.frame_writer_stats()["frame_blocks"] == 0  # the row is young: it waits
        time.sleep(1.05)
        w.write("command", {"t": [2], "kind": ["shell"], "text": ["ls"]})
        assert w.frame_writer_stats()["frame_blocks"] == 1


def test_flush_from_another_thread_while_frames_are_added():
    """The lookups run in add_frame: a flush from another thread waits for the frame being added."""
    import threading
    frames, _ = session(np.random.default_rng(12), 120, 48, 64, 4, levels=256)
    out, done = io.BytesIO(), threading.Event()
    with ShardWriter(out, metadata=CLOCK, flush_seconds=None) as w:
        w.configure_frames(tile=8, page_bytes=8 * 8 * 4 * 16, block_frames=4)

        def flush():
            while not done.is_set():
                w.flush()
        flusher = threading.Thread(target=flush)
        flusher.start()
        for i, image in enumerate(frames):
            w.add_frame(i, image)
        done.set()
        flusher.join()
    check_all(ShardReader(out.getvalue()), frames)


def test_native_and_reference_write_the_same_shard():
    frames, rects = session(np.random.default_rng(9), 25, 45, 38, 4)
    kw = dict(tile=8, page_bytes=8 * 8 * 4 * 5, store_bytes=8 * 8 * 4 * 30, block_frames=4)
    sync = {"background": False}  # deterministic: refreshes reach the caller at a fixed frame
    native = write(frames, rects=rects, backend="native", writer_kw=sync, **kw)
    ref = write(frames, rects=rects, backend="reference", writer_kw=sync, **kw)
    assert native == ref
    reader = ShardReader(ref)
    reader.configure_frame_cache(backend="reference")
    check_all(reader, frames)


@pytest.mark.parametrize("budget, reach", [(2, 1), (3, 0), (0, 2), (0, 0)])
def test_refreshes_and_reach_keep_frames_exact_and_within_budget(budget, reach):
    """Tiny pages, so that frames spread over many pages and refreshes copy tiles often."""
    frames, rects = session(np.random.default_rng(20 + budget), 60, 48, 64, 4, levels=3)
    kw = dict(tile=8, page_bytes=8 * 8 * 4 * 6, block_frames=9, page_budget=budget, refresh_frames=3,
              reach_pages=reach)
    sync = {"background": False}  # refresh requests then reach the caller at a fixed frame: same bytes
    native = write(frames, rects=rects, backend="native", writer_kw=sync, **kw)
    assert native == write(frames, rects=rects, backend="reference", writer_kw=sync, **kw)
    reader = ShardReader(native)
    check_all(reader, frames)
    check_all(ShardReader(write(frames, rects=rects, **kw)), frames)  # in the background too
    if budget:  # right after a refresh (every 3rd frame) a frame uses at most `budget` pages + new ones
        fr = reader._frames()
        store = next(iter(fr.pages.stores.values()))
        pages = [len(np.unique(np.searchsorted(store.firsts, fr.ids(fr.index.row(i, 0)), "right"))) for i in range(60)]
        plain = ShardReader(write(frames, rects=rects, writer_kw=sync, **{**kw, "page_budget": 0, "reach_pages": 0}))
        fp = plain._frames()
        store_p = next(iter(fp.pages.stores.values()))
        pages_plain = [len(np.unique(np.searchsorted(store_p.firsts, fp.ids(fp.index.row(i, 0)), "right")))
                       for i in range(60)]
        assert np.mean(pages) < np.mean(pages_plain)


@pytest.mark.parametrize("budget, reach", [(2, 40), (3, 40), (6, 40)])
def test_recent_pages_are_reached_only_under_budget(budget, reach):
    """A frame whose predecessor already uses ``page_budget`` pages (the open one counted)
    takes tiles only from those pages and the pages opened since: a tile found in another
    recent page is stored again, so frames do not drift past the budget between refreshes."""
    rng = np.random.default_rng(30 + budget)
    screens = rng.integers(0, 256, (4, 48, 64, 4), dtype=np.uint8)  # four apps in turn: A B C D A ...
    frames = [screens[i % 4].copy() for i in range(60)]
    for i, f in enumerate(frames):
        f[i % 6 * 8:i % 6 * 8 + 8, :8] = i  # and a tile that changes in every frame
    kw = dict(tile=8, page_bytes=8 * 8 * 4 * 6, block_frames=9, page_budget=budget, refresh_frames=5,
              reach_pages=reach, motion=False)
    reader = ShardReader(write(frames, writer_kw={"background": False}, **kw))
    check_all(reader, frames)
    fr = reader._frames()
    store = next(iter(fr.pages.stores.values()))
    before, top, capped = None, -1, 0
    for i in range(60):
        ids = fr.ids(fr.index.row(i, 0))
        pages = set(np.unique(np.searchsorted(store.firsts, ids, "right") - 1).tolist())
        if before is not None and len(before) + 1 >= budget:
            opened = int(np.searchsorted(store.firsts, top, "right") - 1)  # open when this frame began
            assert all(p in before or p >= opened for p in pages), (i, sorted(before), sorted(pages), opened)
            capped += 1
        before, top = pages, max(top, int(ids.max()))
    assert capped > 10

def test_forced_hash_collisions_still_decode_exactly():
    frames, _ = session(np.random.default_rng(10), 20, 40, 40, 4)
    sync = {"background": False}
    normal = write(frames, tile=8, writer_kw=sync)
    collided = write(frames, tile=8, _hash_mask=0, writer_kw=sync)  # every tile hashes to 0
    assert collided == normal
    check_all(ShardReader(collided), frames)


def test_small_store_pages_and_cache():
    """Evictions from the content store, pages that fill mid-frame, a cache smaller than a frame."""
    frames, _ = session(np.random.default_rng(12), 30, 64, 64, 4, levels=256)
    data = write(frames, tile=8, store_bytes=8 * 8 * 4 * 10, page_bytes=8 * 8 * 4 * 3)
    reader = ShardReader(data)
    reader.configure_frame_cache(cache_bytes=8 * 8 * 4 * 3 * 4)
    check_all(reader, frames)
    assert np.array_equal(reader.frames([29, 0, 15]), np.stack([frames[29], frames[0], frames[15]]))


@pytest.mark.parametrize("cache_pages", [2, 5, 1000])
def test_pages_decoded_as_far_as_needed_then_extended(cache_pages):
    """A random frame decodes each page only up to its last needed tile; a later frame that
    needs more of a cached page gets it decoded whole. Random orders, caches small and large."""
    frames, _ = session(np.random.default_rng(21), 60, 48, 64, 4, levels=256)
    page = 8 * 8 * 4 * 16
    reader = ShardReader(write(frames, tile=8, page_bytes=page))
    reader.configure_frame_cache(cache_bytes=page * cache_pages)
    order = np.random.default_rng(5).permutation(np.repeat(np.arange(60), 2))
    for i in order.tolist():
        assert np.array_equal(reader.frame(i), frames[i]), i
    store = next(iter(reader._frames().pages.stores.values()))
    resident = store.slots >= 0
    assert resident.any() and (store.valid[resident] % (8 * 8 * 4) == 0).all()


def test_a_page_prefix_then_the_rest():
    rng = np.random.default_rng(22)
    a, b = (rng.integers(0, 256, (48, 64, 4), np.uint8) for _ in range(2))  # 48 new 8 px tiles each
    reader = ShardReader(write([a, b, a.copy()], tile=8, page_bytes=64 * 8 * 8 * 4, writer_kw={"background": False}))
    assert np.array_equal(reader.frame(2), a)  # tiles 0-47: page 0 decoded 48 tiles far
    store = next(iter(reader._frames().pages.stores.values()))
    assert store.firsts.tolist()[:2] == [0, 64] and store.valid[0] == 48 * 256
    assert np.array_equal(reader.frame(1), b)  # tiles 48-95: page 0 decoded whole, page 1 in part
    assert store.valid[0] == 64 * 256 and store.valid[1] == 32 * 256
    assert np.array_equal(reader.frame(0), a)


def test_a_sequential_read_decodes_each_page_once_in_few_slots(monkeypatch):
    """iter_frames decodes a page whole when a frame first needs it (the next frames need the
    rest, and a prefix first would decode the start twice), and gives the slots of pages the
    frames no longer use back, so the pool touches fewer slots than there are pages."""
    from encoder.tiles.page_cache import PageCache
    rng = np.random.default_rng(23)
    frames = [rng.integers(0, 256, (48, 64, 4), np.uint8)]
    for i in range(1, 120):  # a region that keeps changing, at times to content seen before
        f = frames[-1].copy()
        f[8 * (i % 4):8 * (i % 4) + 16, :32] = frames[i - 4][:16, :32] if i % 7 == 0 else \
            rng.integers(0, 256, (16, 32, 4), np.uint8)
        frames.append(f)
    reader = ShardReader(write(frames, tile=8, page_bytes=8 * 8 * 4 * 16))
    reads = []
    read_page = PageCache.read_page

    def counting(self, store, page, into=None, prefix=None):
        reads.append((page, prefix, into.ctypes.data))
        return read_page(self, store, page, into, prefix)
    monkeypatch.setattr(PageCache, "read_page", counting)
    for i, f in enumerate(reader.iter_frames()):
        assert np.array_equal(f, frames[i])
    pages = [p for p, _, _ in reads]
    assert len(pages) > 40 and sorted(pages) == sorted(set(pages)) and {q for _, q, _ in reads} == {None}
    assert len({slot for _, _, slot in reads}) <= 24


def test_random_access_batches_and_frame_at():
    frames, _ = session(np.random.default_rng(13), 40, 30, 40, 3)
    times = [1000 * i for i in range(40)]
    reader = ShardReader(write(frames, times=times, block_frames=7))
    order = np.random.default_rng(0).permutation(40)
    for i in order[:15]:
        assert np.array_equal(reader.frame(int(i)), frames[i])
    assert np.array_equal(reader.frame(-1), frames[-1])
    batch = reader.frames(order)
    assert batch.shape == (40, 30, 40, 3)
    assert all(np.array_equal(batch[j], frames[i]) for j, i in enumerate(order))
    assert np.array_equal(reader.frame_at(5500), frames[5])
    assert np.array_equal(reader.frame_at(5000), frames[5])
    assert np.array_equal(reader.frame_at(10**12), frames[-1])
    assert reader.frame_times().dtype == np.int64 and reader.frame_times().tolist() == times
    with pytest.raises(IndexError):
        reader.frame_at(-1)
    with pytest.raises(IndexError):
        reader.frame(40)
    with pytest.raises(IndexError):
        reader.frame(0, screen=3)
    out = np.empty_like(frames[0])
    assert reader.frame(3, out=out) is out and np.array_equal(out, frames[3])


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_iter_frames_and_consecutive_batches(backend):
    rng = np.random.default_rng(21)
    frames = session(rng, 25, 40, 50, 4)[0] + session(rng, 5, 21, 30, 4)[0] + session(rng, 10, 40, 50, 4)[0]
    reader = ShardReader(write(frames, block_frames=7, tile=8))
    reader.configure_frame_cache(backend=backend)
    got = list(reader.iter_frames())
    assert len(got) == len(frames) and all(np.array_equal(a, b) for a, b in zip(got, frames))
    assert len({id(f) for f in got}) == len(got)  # copies
    for k, frame in enumerate(reader.iter_frames(3, 20, copy=False)):
        assert np.array_equal(frame, frames[3 + k])
    batch = reader.frames(list(range(2, 25)))
    assert all(np.array_equal(batch[j], frames[2 + j]) for j in range(23))
    assert list(reader.iter_frames(screen=5)) == []


def test_frame_at_with_times_out_of_order():
    frames, _ = session(np.random.default_rng(14), 5, 8, 8, 1)
    reader = ShardReader(write(frames, times=[0, 300, 200, 300, 100]))
    assert reader.frame_index_at(250) == 2
    assert reader.frame_index_at(300) == 3
    assert reader.frame_index_at(150) == 4


def test_frames_of_different_shapes_in_one_batch():
    rng = np.random.default_rng(15)
    frames = session(rng, 2, 10, 10, 4)[0] + session(rng, 2, 12, 10, 4)[0]
    reader = ShardReader(write(frames))
    with pytest.raises(EncoderError):
        reader.frames([0, 3])


def test_synchronous_writer_and_verify(tmp_path):
    frames, _ = session(np.random.default_rng(16), 10, 33, 17, 4)
    path = write(frames, path=str(tmp_path / "s.enc"), writer_kw={"background": False})
    reader = ShardReader(path)
    check_all(reader, frames)
    assert reader._verify_frames() == {0: 10}
    reader.close()


def test_bounded_pending_bytes():
    frames, _ = session(np.random.default_rng(17), 20, 40, 40, 4, levels=256)
    check_all(ShardReader(write(frames, max_pending_bytes=1)), frames)


def test_flush_frames_writes_pages_then_rows(tmp_path):
    path = tmp_path / "f.enc"
    frames, _ = session(np.random.default_rng(18), 3, 20, 20, 4)
    w = ShardWriter(path, metadata=CLOCK, flush_seconds=None)
    for i, f in enumerate(frames):
        w.add_frame(i, f)
    w.flush_frames()
    w.flush()
    assert os.path.getsize(path) > 1000
    stats = w.frame_writer_stats()
    assert stats["frames"] == 3 and stats["pages"] >= 1 and stats["frame_blocks"] == 1
    w.close()
    check_all(ShardReader(path), frames)


def test_shard_without_frames():
    out = io.BytesIO()
    with ShardWriter(out) as w:
        w.write("pointer", {"t": [0], "x": [1], "y": [2]})
    reader = ShardReader(out.getvalue())
    assert reader.frame_count() == 0 and reader.frame_times().tolist() == []
    assert reader.frame_stats()["frames"] == 0 and reader._verify_frames() == {}
    with pytest.raises(IndexError):
        reader.frame(0)
    assert "frame" not in reader.streams and "tile" not in reader.streams


def test_events_and_frames_together():
    frames, _ = session(np.random.default_rng(19), 6, 20, 20, 4)
    out = io.BytesIO()
    with ShardWriter(out, flush_seconds=None) as w:
        for i, f in enumerate(frames):
            w.write("pointer", {"t": [i * 10], "x": [i], "y": [-i]})
            w.add_frame(i * 10, f)
    reader = ShardReader(out.getvalue())
    assert reader.read("pointer").num_rows == 6
    check_all(reader, frames)


@pytest.mark.parametrize("image, error", [
    (np.zeros((4, 4), np.float32), SchemaError),
    (np.zeros((4, 4, 4), np.uint16), SchemaError),
    (np.zeros((4, 4, 2), np.uint8), SchemaError),
    (np.zeros((4, 4, 1), np.uint8), SchemaError),
    (np.zeros((2, 4, 4, 4), np.uint8), SchemaError),
    (np.zeros(16, np.uint8), SchemaError),
    (np.zeros((0, 4, 4), np.uint8), SchemaError),
    (np.zeros((8, 8, 4), np.uint8)[:, ::2], SchemaError),
    (np.zeros((4, 4, 4), np.uint8).transpose(1, 0, 2), SchemaError),
    (np.zeros((16385, 1), np.uint8), LimitError),
    (np.zeros((1, 16385), np.uint8), LimitError),
    ([[0, 1], [2, 3]], SchemaError),
])
def test_bad_frames_raise_clear_errors(image, error):
    with ShardWriter(io.BytesIO()) as w:
        with pytest.raises(error) as info:
            w.add_frame(0, image)
        assert isinstance(info.value, EncoderError) and "frame" in str(info.value)


def test_bad_arguments_raise_clear_errors():
    image = np.zeros((8, 8, 4), np.uint8)
    with ShardWriter(io.BytesIO()) as w:
        for kwargs in ({"t_us": 1.5}, {"t_us": True}, {"screen": 256}, {"screen": -1}, {"screen": "0"},
                       {"pixel_format": "rgb"}, {"pixel_format": "argb"}, {"changed": [(0, 0, -1, 2)]},
                       {"changed": [(0, 0, 1)]}, {"changed": 5}):
            args = {"t_us": 0, "image": image, **kwargs}
            with pytest.raises(SchemaError):
                w.add_frame(**args)
        with pytest.raises(LimitError):
            w.configure_frames(tile=2)
        with pytest.raises(LimitError):
            w.configure_frames(page_bytes=(2 << 20) + 1)
        w.add_frame(0, image)
        with pytest.raises(EncoderError):
            w.configure_frames(tile=32)
    with pytest.raises(EncoderError):
        w.add_frame(1, image)  # closed


def test_background_frames_need_a_background_writer():
    w = ShardWriter(io.BytesIO(), background=False)
    w.configure_frames(background=True)
    with pytest.raises(EncoderError):
        w.add_frame(0, np.zeros((4, 4), np.uint8))


def test_encrypted_shard_frames():
    """Pages are decrypted and decompressed straight into the page cache."""
    import inspect
    if "encryption_key" not in inspect.signature(ShardWriter).parameters:
        pytest.skip("no encryption in this tree")
    encryption_key = bytes(range(32))
    frames, _ = session(np.random.default_rng(22), 12, 30, 41, 4)
    out = io.BytesIO()
    try:
        with ShardWriter(out, encryption_key=encryption_key, metadata=CLOCK) as w:
            w.configure_frames(tile=8, page_bytes=8 * 8 * 4 * 8)
            for i, f in enumerate(frames):
                w.add_frame(i, f)
    except ImportError as exc:  # the crypto extra is not installed
        pytest.skip(str(exc))
    reader = ShardReader(out.getvalue(), encryption_key=encryption_key)
    check_all(reader, frames)
    assert np.array_equal(reader.frames([3, 4, 5]), np.stack(frames[3:6]))


def test_finish_frames_writes_them_frees_the_store_and_refuses_more():
    frames, _ = session(np.random.default_rng(30), 6, 40, 50, 4, levels=256)
    sink = io.BytesIO()
    writer = ShardWriter(sink)
    for k, frame in enumerate(frames):
        writer.add_frame(k, frame)
    writer.finish_frames()
    stats = writer.frame_writer_stats()
    assert stats["frames"] == 6 and stats["store_memory_bytes"] == 0 and stats["previous_frame_bytes"] == 0
    with pytest.raises(EncoderError, match="frames are finished"):
        writer.add_frame(10, frames[0])
    writer.write("marker", {"t": [7], "kind": ["k"], "text": ["x"], "value": [1]})
    writer.close()
    check_all(ShardReader(sink.getvalue()), frames)


def test_frames_cannot_be_reconfigured_after_finish_frames():
    writer = ShardWriter(io.BytesIO())
    writer.add_frame(0, np.zeros((8, 8), np.uint8))
    writer.finish_frames()
    with pytest.raises(EncoderError, match="before the first add_frame"):
        writer.configure_frames(tile=8)
    writer.close()
