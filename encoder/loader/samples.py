"""Building samples and batches from sample ids, in one process.

:class:`SampleBuilder` turns a list of sample ids (see :mod:`encoder.loader.index`) into a
batch: a dict of arrays with a leading batch dimension, written in place:

==========================  ===================================  =====================================
field                       type                                 what
==========================  ===================================  =====================================
``shard``                   list of str                          shard (path or URL) of each sample
``t_us``                    int64[B]                             anchor time (µs, session clock)
``sample_id``               int64[B]                             sample id in the dataset
``frames``                  uint8[B, S, H, W(, C)]               frame stack, oldest first (if any)
``frame_t``                 int64[B, S]                          frame times (relative to ``t_us``)
``frame_index``             int64[B, S]                          frame numbers within the shard
``<stream>.<column>``       [B, max_rows] of the column's dtype  event rows, zero padded, time order
``<stream>.len``            int32[B]                             rows of ``<stream>`` that are valid
==========================  ===================================  =====================================

A single sample is the same without the batch dimension (``shard`` a str, ``t_us`` an
``np.int64``). Frames are decoded straight into their slot of the batch (one copy from the
page cache: :meth:`~encoder.ShardReader.frame` with ``out=``), or into a scratch frame that
the crop / resize kernels write into the slot (:func:`encoder.backends.loader_kernels`: Numba
without the GIL, or the NumPy reference under ``ENCODER_BACKEND=reference``). Items
are processed grouped by shard and in frame order, so grid deltas and decoded pages are
reused; a frame needed twice in a batch is decoded once and copied.

Events are read per block of their stream (``read_block``: only the needed columns), sorted
by time once, and kept in a byte-bounded LRU cache, so that neighbouring samples slice the
same decoded block with two binary searches.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from collections import OrderedDict

import numpy as np

from .. import backends
from ..errors import EncoderError
from ..tiles.layout import FORMATS
from .._deprecation import renamed_arguments
from .action_samples import ActionSamples
from .resize import nearest_map, source_ranges
from .shard_files import ReaderPool
from .spec import SampleSpec, column_dtype

log = logging.getLogger("encoder.loader")

#: Errors of the data (a shard missing, corrupt or unreachable) that ``on_error='skip'`` absorbs.
DATA_ERRORS = (EncoderError, OSError)


class _Layout:
    """What the builder keeps about one shard besides its reader: block time ranges, frames."""

    def __init__(self, reader, spec: SampleSpec):
        self.blocks = {}
        by_stream: dict[str, list] = {}
        for b in reader.blocks:  # sorted by offset: the order read_block numbers them
            by_stream.setdefault(b.stream, []).append(b)
        for stream in spec.streams:
            if stream not in reader.streams:
                continue
            infos = by_stream.get(stream, [])
            if len(infos) != len(reader.block_rows(stream)):
                raise EncoderError("block index and footer disagree", shard=reader.name, stream=stream)
            # (block number, t_min, t_max) of the blocks that hold rows: few per stream, so lists.
            self.blocks[stream] = [(i, b.t_min, b.t_max) for i, b in enumerate(infos) if b.rows]
        self.frame_times = None
        if spec.frames and "frame" in reader.streams and reader.frame_count(spec.screen):
            self.frame_times = reader.frame_times(spec.screen)
        self.shapes: dict[int, tuple] = {}   # frame index -> (stored shape, sample shape)


class BufferPool:
    """Output arrays used again once nothing outside the pool refers to them.

    A fresh ``numpy.empty`` of a 1080p frame batch costs a page fault per 4 KiB on first
    write (about 1 ms per frame here, more than assembling the frame); a recycled buffer
    does not. A buffer is reused only when the pool holds the last reference to it (the
    consumer dropped the batch and every view or tensor of it), so a batch that a caller
    keeps is never overwritten. At most ``size`` buffers are kept.
    """

    def __init__(self, size: int = 4):
        self.size = size
        self.buffers: list[np.ndarray] = []

    def take(self, shape: tuple, dtype=np.uint8) -> np.ndarray:
        for i in range(len(self.buffers)):
            # 2 = the list's reference + getrefcount's argument: nobody else holds it.
            if self.buffers[i].shape == shape and sys.getrefcount(self.buffers[i]) == 2:
                return self.buffers[i]
        array = np.empty(shape, dtype)
        if len(self.buffers) < self.size:
            self.buffers.append(array)
        elif self.size:  # replace a buffer of another shape that is free, if any
            for i in range(len(self.buffers)):
                if sys.getrefcount(self.buffers[i]) == 2:
                    self.buffers[i] = array
                    break
        return array


class SampleBuilder:
    """Samples of one index, built in one process (not shared across ``fork``).

    Parameters
    ----------
    index : ShardIndex
    spec : SampleSpec
    pool : ReaderPool
        Open readers of this process.
    event_cache_bytes : int
        Bound on the decoded event blocks kept.
    on_error : {'raise', 'skip'}
        ``skip``: a sample that cannot be read is replaced by the next readable sample of the
        dataset (id + 1, ...; the ids of a shard that does not open are passed over),
        counted in :attr:`replaced` and logged, so every worker still yields its planned count.
    """

    def __init__(self, index, spec: SampleSpec, pool: ReaderPool, *, event_cache_bytes: int = 64 << 20,
                 on_error: str = "raise", recycle: int = 4):
        self.index, self.spec, self.pool = index, spec, pool
        self.event_cache_bytes, self.on_error, self.recycle = event_cache_bytes, on_error, recycle
        self.lock = threading.RLock()
        self.kernels = backends.loader_kernels()  # crop and resize: Numba, or the NumPy reference
        self.actions = ActionSamples(spec) if spec.sample == "action" else None
        self._reset()

    def _reset(self):
        self._pid = os.getpid()
        self._layouts: dict[str, _Layout] = {}
        self._blocks: OrderedDict = OrderedDict()
        self._block_bytes = 0
        self._scratch: dict = {}
        self._acc: dict = {}
        self._buffers = BufferPool(self.recycle)
        if self.actions is not None:
            self.actions.reset()
        self.broken: dict[str, str] = {}    # shards that do not open, and why
        self.replaced = 0                    # samples replaced under on_error='skip'
        self.failures: list = []            # (shard, sample id, message) of the first 100 failures
        self._logged: dict[str, int] = {}   # failures logged per shard

    # -- per shard ----------------------------------------------------------------------
    def _reader(self, shard: int):
        if self._pid != os.getpid():
            self._reset()
        name = self.index.shards[shard]
        if name in self.broken:
            raise EncoderError(f"does not open: {self.broken[name]}", shard=name)
        try:
            reader = self.pool.get(name)
            layout = self._layouts.get(name)
            if layout is None:
                layout = self._layouts[name] = _Layout(reader, self.spec)
        except DATA_ERRORS as exc:
            self.broken[name] = str(exc)
            raise
        return reader, layout

    def _block(self, reader, name: str, stream: str, b: int) -> tuple:
        block_id = (name, stream, b)
        hit = self._blocks.get(block_id)
        if hit is not None:
            self._blocks.move_to_end(block_id)
            return hit
        cols = self.spec.columns[stream]
        table = reader.read_block(stream, b, list(cols))
        arrays = {}
        for c in cols:
            column = table.column(c)
            if column_dtype(stream, c) == object:
                arrays[c] = np.asarray(column.to_pylist(), dtype=object)
            else:
                arrays[c] = column.to_numpy()
        t = arrays["t"]
        if len(t) > 1 and (np.diff(t) < 0).any():  # out-of-order rows: time order, ties kept
            order = np.argsort(t, kind="stable")
            arrays = {c: v[order] for c, v in arrays.items()}
        size = sum(v.nbytes for v in arrays.values())
        self._blocks[block_id] = arrays
        self._block_bytes += size
        while self._block_bytes > self.event_cache_bytes and len(self._blocks) > 1:
            _, old = self._blocks.popitem(last=False)
            self._block_bytes -= sum(v.nbytes for v in old.values())
        return arrays

    def _window(self, reader, layout: _Layout, name: str, stream: str, t: int) -> dict | None:
        """Rows of ``stream`` kept for anchor ``t`` (time order), or None when there are none."""
        spec = self.spec
        lo, hi = t - spec.before_us, t + spec.after_us
        blocks = layout.blocks.get(stream)
        if not blocks:
            return None
        pieces = []
        for b, t_min, t_max in blocks:
            if t_min >= hi or t_max < lo:
                continue
            arrays = self._block(reader, name, stream, b)
            bt = arrays["t"]
            a, z = bt.searchsorted(lo), bt.searchsorted(hi)
            if z > a:
                pieces.append({c: v[a:z] for c, v in arrays.items()})
        if not pieces:
            return None
        if len(pieces) == 1:
            rows = pieces[0]
        else:  # blocks that overlap in time: merge, keeping write order among equal times
            rows = {c: np.concatenate([p[c] for p in pieces]) for c in pieces[0]}
            order = np.argsort(rows["t"], kind="stable")
            rows = {c: v[order] for c, v in rows.items()}
        n = len(rows["t"])
        cap = spec.max_rows[stream]
        if n > cap:  # keep the rows nearest the anchor (see SampleSpec.max_rows)
            m = int(rows["t"].searchsorted(t))
            share = int(round(cap * spec.before_us / (spec.before_us + spec.after_us)))
            keep_before = min(m, max(share, cap - (n - m)))
            start = m - keep_before
            rows = {c: v[start:start + cap] for c, v in rows.items()}
        return rows

    # -- frames -------------------------------------------------------------------------
    def _frame_shape(self, reader, layout: _Layout, index: int) -> tuple[tuple, tuple]:
        """(shape as stored, shape in the sample) of frame ``index`` of the spec's screen."""
        hit = layout.shapes.get(index)
        if hit is None:
            hit = layout.shapes[index] = self._frame_shape_of(reader, index)
        return hit

    def _frame_shape_of(self, reader, index: int) -> tuple[tuple, tuple]:
        info = reader.frame_info(index, self.spec.screen)
        channels = FORMATS[info["format"]][1]
        h, w = info["height"], info["width"]
        stored = (h, w) if channels == 1 else (h, w, channels)
        out_h, out_w = h, w
        if self.spec.crop is not None:
            top, left, ch, cw = self.spec.crop
            if top + ch > h or left + cw > w:
                raise EncoderError(f"crop {self.spec.crop} does not fit frame {index} of {w}x{h}",
                                   shard=reader.name)
            out_h, out_w = ch, cw
        if self.spec.resize is not None:
            out_h, out_w = self.spec.resize
        return stored, (out_h, out_w) + stored[2:]

    def _stack(self, layout: _Layout, reader, anchor_frame: int | None, t: int) -> list[int]:
        spec = self.spec
        if anchor_frame is not None and anchor_frame < 0:  # an action before the first frame
            return [-1] * spec.frame_stack
        if anchor_frame is None:  # event anchor: the frame on screen at t (else the first frame)
            try:
                anchor_frame = reader.frame_index_at(t, spec.screen)
            except IndexError:
                anchor_frame = 0
        return [max(0, anchor_frame - (spec.frame_stack - 1 - k) * spec.stack_stride)
                for k in range(spec.frame_stack)]

    def _put_frame(self, reader, index: int, stored: tuple, slot: np.ndarray) -> None:
        spec = self.spec
        if spec.crop is None and spec.resize is None:
            reader.frame(index, spec.screen, out=slot)
            return
        scratch = self._scratch.get(stored)
        if scratch is None:
            scratch = self._scratch[stored] = np.empty(stored, np.uint8)
        reader.frame(index, spec.screen, out=scratch)
        src = scratch if scratch.ndim == 3 else scratch[:, :, None]
        dst = slot if slot.ndim == 3 else slot[:, :, None]
        top, left, height, width = spec.crop or (0, 0, stored[0], stored[1])
        kernels = self.kernels
        if spec.resize is None:
            kernels.crop(src, np.int64(top), np.int64(left), dst)
        elif spec.resize_method == "nearest":
            kernels.resize_nearest(src, nearest_map(top, height, dst.shape[0]),
                                   nearest_map(left, width, dst.shape[1]), dst)
        else:
            y_lo, y_hi = source_ranges(top, height, dst.shape[0])
            x_lo, x_hi = source_ranges(left, width, dst.shape[1])
            acc = self._acc.get(src.shape)
            if acc is None:
                acc = self._acc[src.shape] = np.empty((src.shape[1], src.shape[2]), np.uint32)
            kernels.resize_box(src, y_lo, y_hi, x_lo, x_hi, acc, dst)

    # -- batches ------------------------------------------------------------------------
    def _allocate(self, n: int) -> dict:
        spec = self.spec
        out = {"shard": [None] * n, "t_us": np.zeros(n, np.int64), "sample_id": np.zeros(n, np.int64)}
        for stream in spec.streams:
            cap = spec.max_rows[stream]
            for c in spec.columns[stream]:
                dtype = column_dtype(stream, c)
                out[f"{stream}.{c}"] = np.full((n, cap), None, object) if dtype == object \
                    else np.zeros((n, cap), dtype)
            out[f"{stream}.len"] = np.zeros(n, np.int32)
        if self.actions is not None:
            self.actions.allocate(out, n)
        return out

    def _fill(self, out: dict, b: int, sample_id: int, decoded: dict, clear: bool) -> None:
        """Write sample ``sample_id`` into row ``b`` of ``out`` (raises on a data error).

        Event arrays arrive zeroed; ``clear`` zeroes the padding again (a retry after a
        failure may have left rows there).
        """
        spec, index = self.spec, self.index
        shard, local = index.shard_of(sample_id)
        name = index.shards[shard]
        reader, layout = self._reader(shard)
        t = int(index.times[shard][local])
        out["shard"][b], out["t_us"][b], out["sample_id"][b] = name, t, sample_id
        base = t if spec.relative_time else 0
        for stream in spec.streams:
            rows = self._window(reader, layout, name, stream, t)
            n = 0 if rows is None else len(rows["t"])
            if n or clear:
                for c in spec.columns[stream]:
                    dst = out[f"{stream}.{c}"][b]
                    if n:
                        dst[:n] = rows[c] - base if c == "t" else rows[c]
                    if clear:
                        dst[n:] = None if dst.dtype == object else 0
            out[f"{stream}.len"][b] = n
        if self.actions is not None:
            self.actions.fill(out, b, reader, name, local, base)
        has_frames = layout.frame_times is not None
        if "frames" in out and not has_frames:
            raise EncoderError("has no frames but other samples of the batch do: use frames=False or "
                               "datasets of shards alike", shard=name)
        if not has_frames:
            out["frames_absent"] = True
            return
        if out.get("frames_absent"):
            raise EncoderError("has frames but other samples of the batch do not: use frames=False or "
                               "datasets of shards alike", shard=name)
        frames = index.frames[shard]
        stack = self._stack(layout, reader, None if frames is None else int(frames[local]), t)
        stored, shape = self._frame_shape(reader, layout, max(stack[-1], 0))
        if "frames" not in out:
            n = len(out["t_us"])
            out["frames"] = self._buffers.take((n, spec.frame_stack) + shape)
            out["frame_t"] = np.zeros((n, spec.frame_stack), np.int64)
            out["frame_index"] = np.zeros((n, spec.frame_stack), np.int64)
            out["_frame_shape"] = shape
        elif out["_frame_shape"] != shape:
            raise EncoderError(f"frame of shape {shape} in a batch of {out['_frame_shape']}: set resize= "
                               "(and crop=) to give every frame one size", shard=name)
        for k, fi in enumerate(stack):
            slot = out["frames"][b, k]
            seen = decoded.get((shard, fi))
            if fi < 0:  # no observation yet: a black frame, index -1
                slot[...] = 0
                out["frame_index"][b, k], out["frame_t"][b, k] = -1, 0
                continue
            if seen is not None:
                np.copyto(slot, out["frames"][seen])
            else:
                stored_k, shape_k = (stored, shape) if fi == stack[-1] else self._frame_shape(reader, layout, fi)
                if shape_k != shape:
                    raise EncoderError(f"frames {fi} and {stack[-1]} of one stack differ in size: set resize=",
                                       shard=name)
                self._put_frame(reader, fi, stored_k, slot)
                decoded[(shard, fi)] = (b, k)
            out["frame_index"][b, k] = fi
            out["frame_t"][b, k] = int(layout.frame_times[fi]) - base

    def _substitute(self, sample_id: int) -> int:
        """The sample id that replaces ``sample_id`` after a failure: the next one not in a broken shard."""
        index = self.index
        total = index.total
        nxt = (sample_id + 1) % total
        shard, _ = index.shard_of(nxt)
        while index.shards[shard] in self.broken:
            if len(self.broken) >= len(index.shards):
                raise EncoderError("no shard of the dataset can be read", shard=index.shards[shard])
            shard = (shard + 1) % len(index.shards)
            nxt = int(index.offsets[shard])
        return nxt

    @renamed_arguments(keys="sample_ids")
    def build(self, sample_ids) -> dict:
        """The batch of samples ``sample_ids`` (a dict of arrays with a leading batch dimension)."""
        sample_ids = [int(i) for i in sample_ids]
        with self.lock:
            out = self._allocate(len(sample_ids))
            decoded: dict = {}
            located = [self.index.shard_of(i) for i in sample_ids]
            frames = self.index.frames
            order = sorted(range(len(sample_ids)), key=lambda j: (
                located[j][0], int(frames[located[j][0]][located[j][1]]) if frames[located[j][0]] is not None
                else located[j][1]))
            for b in order:
                sample_id = sample_ids[b]
                for attempt in range(self.index.total + 1):
                    try:
                        self._fill(out, b, sample_id, decoded, clear=attempt > 0)
                        break
                    except DATA_ERRORS as exc:
                        if self.on_error != "skip":
                            if isinstance(exc, EncoderError):
                                raise exc.located(shard=self.index.shards[self.index.shard_of(sample_id)[0]])
                            raise
                        self._record_failure(sample_id, exc)
                        # Frames this row wrote may be reused by later rows: forget them.
                        decoded = {at: v for at, v in decoded.items() if v[0] != b}
                        sample_id = self._substitute(sample_id)
            out.pop("_frame_shape", None)
            out.pop("frames_absent", None)
            return out

    def _record_failure(self, sample_id: int, exc: BaseException) -> None:
        shard = self.index.shards[self.index.shard_of(sample_id)[0]]
        self.replaced += 1
        if len(self.failures) < 100:
            self.failures.append((shard, sample_id, str(exc)))
        logged = self._logged.get(shard, 0)
        self._logged[shard] = logged + 1
        if logged < 10:  # a shard broken throughout would otherwise log once per sample
            log.warning("sample %d of %s cannot be read, replaced: %s%s", sample_id, shard, exc,
                        "; further failures of this shard are only counted" if logged == 9 else "")

    @renamed_arguments(key="sample_id")
    def sample(self, sample_id: int) -> dict:
        """One sample (the batch of one, without its batch dimension)."""
        return unbatch(self.build([sample_id]))[0]


def unbatch(batch: dict) -> list[dict]:
    """The samples of a batch, as views into its arrays."""
    n = len(batch["t_us"])
    return [{k: (v[b] if isinstance(v, (np.ndarray, list)) else v) for k, v in batch.items()} for b in range(n)]


def nbytes(item) -> int:
    """Bytes of the arrays of a sample or batch (what the prefetch budget counts)."""
    return sum(v.nbytes for v in item.values() if isinstance(v, np.ndarray))


__all__ = ["DATA_ERRORS", "SampleBuilder", "nbytes", "unbatch"]
