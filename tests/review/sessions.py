"""A small session written for the review tests, and the checks they share.

The session (:func:`write_session`): 10 s from ``T0``; 64x96 BGRA frames of random noise every
0.5 s whose top-left tile changes every frame, plus, only in frames with 4 <= t < 6 s, a
distinctive random 16x16 block on a tile boundary (``SECRET_AT``): its bytes are a tile that
no frame outside 4-6 s uses. Streams: pointer every 100 ms, keys with text (``"s3cr3t"`` typed
only in 4-6 s), focus rows with titles, rows exactly on the range's edges, an empty ``scroll``,
a declared ``note`` stream with strings; screen 1 has a few frames too.
"""
from __future__ import annotations

import hashlib

import numpy as np

import encoder
from encoder.streams import Column, Stream

T0 = 1_000_000                          # the first row (0 s of the ranges)
H, W, TILE = 64, 96, 16
SECRET_AT = (32, 48)                    # (y, x) of the distinctive block, on a tile boundary
DROP = (4.0, 6.0)                       # the range the tests cut (seconds)
NOTE = Stream("note", (Column("t", "int64"), Column("text", "string", nullable=True), Column("n", "int32")))
KEY = bytes(range(32))


def secret_block() -> np.ndarray:
    return np.random.default_rng(99).integers(0, 256, (TILE, TILE, 4), np.uint8)


def frames(screen: int = 0) -> list[tuple[int, np.ndarray]]:
    """(t, frame) of a screen, as written."""
    rng = np.random.default_rng(7 + screen)
    base = rng.integers(0, 256, (H, W, 4), np.uint8)
    out = []
    step = 500_000 if screen == 0 else 2_500_000
    for k, t in enumerate(range(T0, T0 + 10_000_000, step)):
        f = base.copy()
        f[:TILE, :TILE] = rng.integers(0, 256, (TILE, TILE, 4), np.uint8)  # a tile of its own per frame
        if T0 + 4_000_000 <= t < T0 + 6_000_000 and screen == 0:
            y, x = SECRET_AT
            f[y:y + TILE, x:x + TILE] = secret_block()
        out.append((t, f))
    return out


def write_session(path, *, encryption_key=None, screens=(0, 1)) -> str:
    s = 1_000_000
    with encoder.ShardWriter(path, metadata={"session": {"id": "review-test"}}, encryption_key=encryption_key,
                             block_rows=16) as w:
        t = T0 + np.arange(100) * 100_000
        w.write("pointer", {"t": t, "x": np.arange(100, dtype=np.int32), "y": -np.arange(100, dtype=np.int32)})
        kt = np.array([T0 + s, T0 + 4 * s - 1, T0 + 4 * s, T0 + 5 * s, T0 + 6 * s - 1, T0 + 6 * s, T0 + 9 * s])
        text = ["a", "b", "s3", "cr3t", None, "c", "d"]
        w.write("key", {"t": kt, "code": np.arange(len(kt), dtype=np.uint32) + 0x61,
                        "pressed": np.ones(len(kt), bool), "modifiers": np.zeros(len(kt), np.uint16), "text": text})
        w.write("focus", {"t": [T0, T0 + 4_500_000, T0 + 7 * s], "app": ["xterm", "keepass", "firefox"],
                          "title": ["~", "vault: bank", None], "window": [1, 2, 3], "x": [0, 0, 0], "y": [0, 0, 0],
                          "width": [9, 9, 9], "height": [9, 9, 9]})
        w.write("scroll", {"t": np.zeros(0, np.int64), "dx": np.zeros(0, np.int32), "dy": np.zeros(0, np.int32),
                           "precise": np.zeros(0, bool), "x": np.zeros(0, np.int32), "y": np.zeros(0, np.int32)})
        w.declare(NOTE)
        w.write("note", {"t": [T0 + 3 * s, T0 + 5 * s, T0 + 8 * s], "text": ["before", "inside", None],
                         "n": [1, 2, 3]})
        merged = sorted((t, sc, f) for sc in screens for t, f in frames(sc))
        for t, sc, f in merged:
            w.add_frame(t, f, screen=sc)
    return str(path)


def sha256(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def stored_tiles(reader) -> np.ndarray:
    """Every tile of the shard's tile store, decompressed: ``uint8[n, tile * tile * channels]``."""
    if "tile" not in reader.streams:
        return np.zeros((0, 0), np.uint8)
    table = reader.read("tile")
    out = []
    for channels, tile, count, page in zip(*(table.column(c).to_pylist()
                                             for c in ("channels", "tile", "count", "page"))):
        out.append(np.frombuffer(page, np.uint8).reshape(count, tile * tile * channels))
    return np.concatenate(out) if out else np.zeros((0, 0), np.uint8)


def frame_tiles(frame: np.ndarray, tile: int = TILE) -> np.ndarray:
    """The tiles of a frame as the store holds them (edges padded with zeros): ``uint8[n, bytes]``."""
    if frame.ndim == 2:
        frame = frame[:, :, None]
    h, w, c = frame.shape
    rows, cols = -(-h // tile), -(-w // tile)
    padded = np.zeros((rows * tile, cols * tile, c), np.uint8)
    padded[:h, :w] = frame
    return padded.reshape(rows, tile, cols, tile, c).transpose(0, 2, 1, 3, 4).reshape(rows * cols, -1)


_MIX = np.random.default_rng(5).integers(1, 1 << 62, 4096, np.uint64) | np.uint64(1)


def hashes(tiles: np.ndarray) -> set:
    """A 64-bit hash of each tile (rows of bytes), for set comparisons of many tiles."""
    if not len(tiles):
        return set()
    words = np.ascontiguousarray(tiles).view(np.uint64)
    with np.errstate(over="ignore"):
        return set((words * _MIX[:words.shape[1]]).sum(axis=1, dtype=np.uint64).tolist())


def tiles_in_frames(reader, screens=None) -> set:
    """Hashes of every tile of every frame of the shard: cut on the screen's grid, and on the
    grid of each pane (a region that scrolled: its tiles are aligned to its content)."""
    from encoder.backends import tile_kernels
    found: set = set()
    frames = reader._frames()
    for s in (reader.frame_screens() if screens is None else screens):
        tile = reader.frame_info(0, s)["tile"]
        for row, f in zip(frames.index.rows(s).tolist(), reader.iter_frames(screen=s, copy=False)):
            found |= hashes(frame_tiles(f, tile))
            for p in frames.grid(row)[1].values():
                rows, cols = np.divmod(np.arange(p.ids.size), p.ids.shape[1])
                channels = 1 if f.ndim == 2 else f.shape[2]
                found |= hashes(tile_kernels("native").gather_cells(
                    f.reshape(f.shape[0], -1), channels, tile, p.cx, p.cy, rows + p.r0, cols + p.c0))
    return found
