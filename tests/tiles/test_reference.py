"""Tile kernels: the native ones (Cython capture path, Numba read path) against the NumPy reference."""
from __future__ import annotations

import numpy as np
import pytest
import xxhash

from encoder.errors import CorruptShardError
from encoder.backends import tile_kernels
from encoder.tiles import layout, reference
from encoder.tiles.layout import GRID_DELTA, GRID_FULL, grid_shape

native = tile_kernels("native")
ref = tile_kernels("reference")

SHAPES = [(1, 1), (17, 33), (16, 16), (40, 50), (100, 37)]


def desktopish(rng, height, width, channels, levels=3):
    """Few distinct values, so that tiles repeat and compare equal often."""
    return rng.integers(0, levels, (height, width * channels), dtype=np.uint8)


@pytest.mark.parametrize("size", [0, 1, 3, 4, 7, 8, 31, 32, 33, 63, 64, 65, 256, 768, 1024, 1027])
def test_tile_hash_is_xxh64(size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8)
    expected = xxhash.xxh64_intdigest(data.tobytes())
    assert native.tile_hash(data) == expected
    assert native.tile_hash(data.tobytes()) == expected
    assert ref.tile_hash(data) == expected


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("tile", [4, 5, 16])
def test_stage_and_gather_match_reference(shape, channels, tile):
    rng = np.random.default_rng(hash((shape, channels, tile)) % 2**32)
    height, width = shape
    image = desktopish(rng, height, width, channels)
    prev = image.copy()
    flips = rng.random(prev.shape) < 0.02
    prev[flips] ^= 1
    n = np.prod(grid_shape(height, width, tile))
    for candidates in (None, rng.random(n) < 0.5):
        p_native, p_ref = prev.copy(), prev.copy()
        got = native.stage(image, p_native, channels, tile, candidates)
        want = ref.stage(image, p_ref, channels, tile, candidates)
        assert got.dtype == np.int32 and np.array_equal(got, want)
        assert np.array_equal(p_native, p_ref)
        if candidates is None:
            assert np.array_equal(p_native, image)
        assert np.array_equal(native.gather(image, channels, tile, got), ref.gather(image, channels, tile, want))
    everything = np.arange(n, dtype=np.int32)
    tiles = native.gather(image, channels, tile, everything)
    assert np.array_equal(tiles, reference.tiles_of(image, channels, tile))
    assert np.array_equal(reference.assemble_image(np.arange(n), tiles, height, width, channels, tile), image)


def test_stage_unchanged_frame_is_empty():
    image = desktopish(np.random.default_rng(0), 64, 64, 4)
    assert len(native.stage(image, image.copy(), 4, 16)) == 0


def test_gather_pads_with_zeros():
    image = np.full((3, 5 * 4), 7, np.uint8)
    tile = native.gather(image, 4, 4, np.array([1], np.int32))[0].reshape(4, 16)
    assert (tile[:3, :4] == 7).all() and (tile[3] == 0).all() and (tile[:, 4:] == 0).all()


@pytest.mark.parametrize("k", [native, ref], ids=["native", "reference"])
def test_gathers_write_into_reused_memory(k):
    """``out=``: the tiles land in the caller's array (the writer's staging buffer), the same
    bytes as a new array; an array of the wrong shape, type or layout is refused."""
    image = desktopish(np.random.default_rng(4), 37, 45, 4, levels=256)
    positions = np.array([0, 4, 7, 11], np.int32)
    rows, cols = np.array([-1, 0, 2, 3], np.int32), np.array([0, 2, -1, 3], np.int32)
    buffer = np.full(8 * 1024, 99, np.uint8)
    out = buffer[1024:1024 + 4 * 256].reshape(4, 256)
    assert k.gather(image, 4, 8, positions, out=out) is out
    assert np.array_equal(out, native.gather(image, 4, 8, positions))
    cells = buffer[:4 * 256].reshape(4, 256)
    assert k.gather_cells(image, 4, 8, 3, -2, rows, cols, out=cells) is cells
    assert np.array_equal(cells, native.gather_cells(image, 4, 8, 3, -2, rows, cols))
    assert (buffer[2048:] == 99).all()   # nothing written past the views
    for bad in (np.empty((4, 255), np.uint8), np.empty((3, 256), np.uint8), np.empty((4, 256), np.int16),
                np.empty((4, 512), np.uint8)[:, ::2]):
        with pytest.raises(ValueError):
            k.gather(image, 4, 8, positions, out=bad)
        with pytest.raises(ValueError):
            k.gather_cells(image, 4, 8, 3, -2, rows, cols, out=bad)


def test_candidates_clip_to_the_frame():
    mask = layout.candidates_of([(-5, -5, 6, 6), (30, 30, 100, 100), (10, 10, 0, 5)], 40, 40, 16)
    assert mask.reshape(3, 3).tolist() == [[True, False, False], [False, True, True], [False, True, True]]
    assert not layout.candidates_of([(100, 100, 5, 5)], 40, 40, 16).any()


def test_stage_rejects_bad_buffers():
    image = np.zeros((8, 32), np.uint8)
    with pytest.raises(TypeError):
        native.stage(image.astype(np.uint16), image.copy(), 4, 4)
    with pytest.raises(ValueError):
        native.stage(image, np.zeros((8, 16), np.uint8), 4, 4)
    with pytest.raises(ValueError):
        native.stage(np.zeros((8, 30), np.uint8), np.zeros((8, 30), np.uint8), 4, 4)
    with pytest.raises(ValueError):
        native.stage(image[:, ::2], image[:, ::2].copy(), 4, 4)
    with pytest.raises(ValueError):
        native.gather(image, 4, 4, np.array([99], np.int32))


def run_store(k, tiles_list, tile_bytes, capacity, page_tiles, mask):
    """Feed batches of tiles to a store; returns the ids of each batch and the pages."""
    store = k.TileStore(tile_bytes, capacity, page_tiles, mask)
    all_ids, pages = [], []
    for tiles in tiles_list:
        ids = np.empty(len(tiles), np.int64)
        pos = 0
        while pos < len(tiles):
            pos = store.add(tiles, ids, pos)
            if pos < len(tiles):
                assert store.page_count == page_tiles
                pages.append(store.take_page())
        all_ids.append(ids)
    pages.append(store.take_page())
    return all_ids, pages, store


@pytest.mark.parametrize("capacity", [1, 5, 64, 10_000])
@pytest.mark.parametrize("mask", [(1 << 64) - 1, 0, 0xF])
def test_store_matches_reference(capacity, mask):
    rng = np.random.default_rng(capacity)
    tile_bytes = 48
    alphabet = rng.integers(0, 256, (40, tile_bytes), dtype=np.uint8)
    batches = [np.ascontiguousarray(alphabet[rng.integers(0, 40, rng.integers(0, 30))]) for _ in range(20)]
    got = run_store(native, batches, tile_bytes, capacity, 7, mask)
    want = run_store(ref, batches, tile_bytes, capacity, 7, mask)
    for a, b in zip(got[0], want[0]):
        assert np.array_equal(a, b)
    assert got[1] == want[1]
    assert got[2].next_id == want[2].next_id and got[2].live == want[2].live == min(capacity, got[2].next_id)
    # every id refers to the tile that was given: pages replay the content exactly
    content = b"".join(data for _, _, data in got[1])
    for tiles, ids in zip(batches, got[0]):
        for tile, i in zip(tiles, ids):
            assert content[i * tile_bytes:(i + 1) * tile_bytes] == tile.tobytes()


@pytest.mark.parametrize("k", [native, ref], ids=["native", "reference"])
def test_store_copies_out_the_tiles_it_holds(k):
    """A refresh of pane cells takes their bytes from the store: only the last ``capacity`` ids."""
    store = k.TileStore(16, 5, 100)
    tiles = np.arange(7 * 16, dtype=np.uint8).reshape(7, 16)
    ids = np.zeros(7, np.int64)
    store.add(tiles, ids)
    out = np.zeros((5, 16), np.uint8)
    held = store.copy_tiles(np.array([0, 2, 6, 7, -1]), out)
    assert held.tolist() == [False, True, True, False, False]
    assert np.array_equal(out[1], tiles[2]) and np.array_equal(out[2], tiles[6]) and not out[[0, 3, 4]].any()
    with pytest.raises(ValueError):
        store.copy_tiles([1], np.zeros((1, 15), np.uint8))


def test_forced_collision_keeps_tiles_apart():
    """Every hash equal (mask 0): only the byte comparison tells tiles apart."""
    base = np.zeros((1, 64), np.uint8)
    tiles = np.repeat(base, 65, axis=0)
    for i in range(64):
        tiles[i + 1, i] = 1  # each differs from the others in one byte
    tiles = np.concatenate([tiles, tiles[::-1]])
    store = native.TileStore(64, 1000, 1000, 0)
    ids = np.empty(len(tiles), np.int64)
    assert store.add(tiles, ids) == len(tiles)
    assert ids[:65].tolist() == list(range(65))
    assert ids[65:].tolist() == list(range(64, -1, -1))


def test_store_big_table_growth_and_eviction():
    rng = np.random.default_rng(3)
    tiles = rng.integers(0, 256, (5000, 16), dtype=np.uint8)
    tiles = np.concatenate([tiles, tiles[-3000:]])  # the last 3000 are still live, the first 2000 not
    ids_n = run_store(native, [tiles], 16, 3000, 10_000, (1 << 64) - 1)[0][0]
    ids_r = run_store(ref, [tiles], 16, 3000, 10_000, (1 << 64) - 1)[0][0]
    assert np.array_equal(ids_n, ids_r)
    assert ids_n[5000:].tolist() == list(range(2000, 5000))


def test_store_rejects_bad_input():
    store = native.TileStore(16, 10, 10)
    with pytest.raises(ValueError):
        store.add(np.zeros((2, 8), np.uint8), np.empty(2, np.int64))
    with pytest.raises(TypeError):
        store.add(np.zeros((2, 16), np.uint8), np.empty(2, np.int32))
    with pytest.raises(ValueError):
        native.TileStore(0, 10, 10)


def random_grid(rng, n, size):
    ids = rng.integers(0, size, n)
    changed = np.sort(rng.choice(n, rng.integers(0, n + 1), replace=False)).astype(np.int32)
    new = rng.integers(0, size, len(changed))
    new[: len(new) // 2] = np.arange(len(new) // 2) + size // 2  # runs of new tiles
    return ids, changed, new


@pytest.mark.parametrize("seed", range(8))
def test_grid_blobs_match_reference_and_round_trip(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    ids, changed, new = random_grid(rng, n, 1 << int(rng.integers(1, 32)))
    key = native.encode_full(ids)
    assert key == reference.encode_full(ids) and key[0] == GRID_FULL
    delta = native.encode_delta(changed, new)
    assert delta == reference.encode_delta(changed, new) and delta[0] == GRID_DELTA
    limit = int(max(ids.max(), new.max() if len(new) else 0)) + 1
    for k in (native, ref):
        out = np.full(n, -1, np.int64)
        assert k.decode_grid(np.frombuffer(key, np.uint8), out, limit) == GRID_FULL
        assert np.array_equal(out, ids)
        assert k.decode_grid(np.frombuffer(delta, np.uint8), out, limit) == GRID_DELTA
        expect = ids.copy()
        expect[changed] = new
        assert np.array_equal(out, expect)


def test_grid_coding_is_compact():
    assert native.encode_full(np.arange(1000)) == bytes([GRID_FULL]) + bytes(1000)  # sequential ids: zeros
    assert native.encode_delta(np.zeros(0, np.int32), np.zeros(0, np.int64)) == bytes([GRID_DELTA, 0])


def corruptions(blob):
    for cut in range(len(blob)):
        yield blob[:cut]
    for i in range(len(blob)):
        for bit in (0, 3, 7):
            b = bytearray(blob)
            b[i] ^= 1 << bit
            yield bytes(b)
    yield blob + b"\x00"
    yield bytes([9]) + blob[1:]
    yield bytes([GRID_DELTA]) + b"\xff" * 12
    yield bytes([GRID_DELTA, 1, 200, 0, 0])


def test_corrupt_grids_raise_or_stay_in_bounds():
    """Every truncation and many bit flips: an error, or ids that stay inside the store."""
    rng = np.random.default_rng(7)
    ids, changed, new = random_grid(rng, 40, 64)
    limit = 64
    for blob in list(corruptions(native.encode_full(ids))) + list(corruptions(native.encode_delta(changed, new))):
        results = []
        for k in (native, ref):
            out = np.zeros(40, np.int64)
            try:
                k.decode_grid(np.frombuffer(blob, np.uint8), out, limit)
                results.append(out)
                assert ((out >= 0) & (out < limit)).all()
            except CorruptShardError:
                results.append("error")
        assert len(results) == 2
        if not isinstance(results[0], str) or not isinstance(results[1], str):
            assert np.array_equal(results[0], results[1])
    for k in (native, ref):
        with pytest.raises(CorruptShardError):
            k.decode_grid(np.frombuffer(native.encode_full(ids), np.uint8), np.zeros(40, np.int64), 1)
        with pytest.raises(CorruptShardError):
            k.decode_grid(np.zeros(0, np.uint8), np.zeros(40, np.int64), 64)


# Both sides of the 1 MiB switch to streaming stores, each with a destination 0-15 bytes
# past a 16-byte boundary (the stores start aligned, the head and tail are plain copies).
@pytest.mark.parametrize("size", [0, 1, 63, 64, 1000, (1 << 20) - 1, 1 << 20, (1 << 20) + 77, 3 << 20])
@pytest.mark.parametrize("k", [native, ref], ids=["native", "reference"])
def test_copy_out_copies_every_byte(k, size):
    rng = np.random.default_rng(size)
    src = rng.integers(0, 256, size + 16, dtype=np.uint8)
    for offset in (0, 1, 9, 15):
        dst = np.zeros(size + 32, np.uint8)
        k.copy_out(src[offset:offset + size], dst[offset + 3:offset + 3 + size])
        assert np.array_equal(dst[offset + 3:offset + 3 + size], src[offset:offset + size])
        assert not dst[:offset + 3].any() and not dst[offset + 3 + size:].any()  # nothing past the ends
    frame = rng.integers(0, 256, (1080, 480, 4), dtype=np.uint8)
    out = np.empty_like(frame)
    k.copy_out(frame, out)
    assert np.array_equal(out, frame)
    with pytest.raises(ValueError):
        k.copy_out(frame, np.empty(frame.size - 1, np.uint8))
    with pytest.raises(ValueError):
        k.copy_out(frame, np.empty(frame.shape, np.int16))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("channels", [1, 4])
def test_assemble_matches_reference(shape, channels):
    rng = np.random.default_rng(11)
    height, width = shape
    tile = 8
    tile_bytes = tile * tile * channels
    n = int(np.prod(grid_shape(height, width, tile)))
    store = rng.integers(0, 256, (23, tile_bytes), dtype=np.uint8)
    ids = rng.integers(0, 23, n).astype(np.int64)
    firsts = np.array([0, 5, 6, 20], np.int64)
    counts = np.diff(np.append(firsts, 23))
    pool = np.zeros((4, 14 * tile_bytes), np.uint8)
    slots = np.array([2, 0, 3, 1], np.int32)
    for page, slot in enumerate(slots):
        data = store[firsts[page]:firsts[page] + counts[page]].reshape(-1)
        pool[slot, :len(data)] = data
    want = reference.assemble_image(ids, store, height, width, channels, tile)
    for k in (native, ref):
        out = np.zeros((height, width * channels), np.uint8)
        assert k.assemble(out, ids, tile, channels, firsts, slots, pool) == 0
        assert np.array_equal(out, want)
        partial = slots.copy()
        partial[1] = -1
        out = np.zeros((height, width * channels), np.uint8)
        missing = k.assemble(out, ids, tile, channels, firsts, partial, pool)
        assert missing == int(((ids >= 5) & (ids < 6)).sum())
        out = np.zeros((height, width * channels), np.uint8)
        some = np.flatnonzero(rng.random(n) < 0.3)
        assert k.assemble_at(out, ids, some, tile, channels, firsts, slots, pool) == 0
        expect = np.zeros_like(out)
        for p in some.tolist():
            ty, tx = divmod(p, -(-width // tile))
            cell = (slice(ty * tile, (ty + 1) * tile), slice(tx * tile * channels, (tx + 1) * tile * channels))
            expect[cell] = want[cell]
        assert np.array_equal(out, expect)
        marks = np.zeros(4, np.int32)
        k.mark_pages(ids, firsts, marks)  # how far into each page the ids reach (0: not at all)
        assert marks.tolist() == [int(ids[(ids >= a) & (ids < a + c)].max(initial=a - 1)) - a + 1
                                  for a, c in zip(firsts, counts)]
