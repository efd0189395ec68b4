"""The self-contained byte blobs behind the numcodecs and zarr codecs (no optional package needed).

Two formats, each a small fixed header, a payload and an XXH3-64 checksum of everything before
it (little-endian), so a blob travels alone (a zarr chunk, a numcodecs buffer) and any flipped
bit is caught before a byte of it is decoded:

* **events** (``b"ENCE"``): one 1-D integer column through the event column pipeline of
  :mod:`encoder.codecs.columns` (delta or frame of reference, common step, zigzag, optional
  rank table, byte planes), each section a zstd frame.
  Header: magic, version u8, dtype code u8 (:data:`EVENT_DTYPES`), reserved u16, values u64,
  params length u32, section count u32, then the params JSON and per section its raw and
  compressed lengths (u32 each), then the sections.
* **frames** (``b"ENCF"``): a chunk of ``N`` frames ``H x W (x C)`` of ``uint8`` through the
  screen tiles (dedup against the chunk's previous frames and its whole content store, pages
  of zstd): a complete shard, written in memory by :class:`~encoder.shard.ShardWriter` and
  read back by :class:`~encoder.shard.ShardReader`, which verifies it.
  Header: magic, version u8, ndim u8 (3 or 4), channels u8, reserved u8, frames u32, height
  u32, width u32, shard length u64, then the shard.

The decoders trust nothing: every length is checked against the bytes present and every count
against :data:`MAX_VALUES` / the shard's own frame index before anything is allocated, and
anything inconsistent raises :class:`~encoder.errors.CorruptShardError` (bad input to the
encoders raises :class:`~encoder.errors.SchemaError` or :class:`~encoder.errors.LimitError`).

Examples
--------
>>> import numpy as np
>>> t = np.cumsum(np.full(1000, 8000, np.int64))
>>> blob = encode_events(t)
>>> len(blob) < 200, bool((decode_events(blob) == t).all())
(True, True)
>>> frames = np.zeros((3, 32, 48, 4), np.uint8)
>>> frames[1, 5, 7] = 255
>>> bool((decode_frames(encode_frames(frames)) == frames).all())
True
"""
from __future__ import annotations

import io
import json
import struct

import numpy as np
import xxhash
import zstandard

from ..codecs.columns import decode_ints, encode_ints, int_sections
from ..errors import CorruptShardError, EncoderError, LimitError, SchemaError, UnsupportedVersionError
from ..shard import ShardReader, ShardWriter

__all__ = ["EVENT_DTYPES", "MAX_VALUES", "TRANSFORMS", "decode_events", "decode_frames", "encode_events",
           "encode_frames", "events_dtype", "frames_shape"]

VERSION = 1
EVENTS_MAGIC, FRAMES_MAGIC = b"ENCE", b"ENCF"
_EVENTS_HEAD = struct.Struct("<4sBBHQII")   # magic, version, dtype, 0, values, params length, sections
_SECTION = struct.Struct("<II")             # raw length, compressed length
_FRAMES_HEAD = struct.Struct("<4sBBBBIIIQ")  # magic, version, ndim, channels, 0, frames, height, width, shard
_DIGEST = struct.Struct("<Q")

#: The integer dtypes an events blob holds, by their code in the header (little-endian).
EVENT_DTYPES = tuple(np.dtype(d) for d in ("<i1", "<i2", "<i4", "<i8", "<u1", "<u2", "<u4", "<u8"))
#: How the column codecs hold each dtype: int8/int16 widened to int32, uint64 as int64 bits.
_CODED_AS = {"i1": np.int32, "i2": np.int32, "u8": np.int64}
#: At most this many values per events blob (2 GiB of int64): a header never allocates more.
MAX_VALUES = 1 << 28
#: The params JSON of a column is a few dozen bytes; more is corruption.
MAX_PARAMS = 4096
#: ``transform`` names -> the column codec's candidate (``encoder.codecs.columns.CANDIDATES``).
TRANSFORMS = {"auto": None, "delta": 0, "for": 1, "delta-rank": 2}
#: Frame chunks: channels allowed, and the largest side (the tile layer's limit).
CHANNELS, MAX_SIDE = (1, 3, 4), 16384
_FIXED_CLOCK = {"source": "none", "t0_us": 0, "unix_us_at_t0": 0}  # same frames, same bytes


def _bad(message: str) -> CorruptShardError:
    return CorruptShardError(message, shard="<blob>")


def as_bytes(buf) -> memoryview:
    """Any buffer-protocol object (bytes, numpy array, array.array, zarr buffer) as bytes."""
    if isinstance(buf, np.ndarray):
        buf = np.ascontiguousarray(buf)
    try:
        return memoryview(buf).cast("B")
    except TypeError as e:
        raise SchemaError(f"expected a bytes-like object, got {type(buf).__name__}") from e


def _checked_body(buf, magic: bytes, head: struct.Struct) -> memoryview:
    """The blob without its checksum, after checking length, magic, version and checksum."""
    data = as_bytes(buf)
    if len(data) < head.size + _DIGEST.size:
        raise _bad(f"truncated at byte {len(data)}: the header and checksum take {head.size + _DIGEST.size}")
    if bytes(data[:4]) != magic:
        raise _bad(f"starts with {bytes(data[:4])!r}, not the magic {magic!r}")
    if data[4] != VERSION:
        raise UnsupportedVersionError(f"blob format version {data[4]}; this library reads {VERSION}")
    body = data[:len(data) - _DIGEST.size]
    digest, = _DIGEST.unpack_from(data, len(body))
    if xxhash.xxh3_64_intdigest(body) != digest:
        raise _bad(f"checksum mismatch over its {len(body)} bytes (truncated or damaged)")
    return body


def _sealed(parts: list) -> bytes:
    body = b"".join(parts)
    return body + _DIGEST.pack(xxhash.xxh3_64_intdigest(body))


# -- events -------------------------------------------------------------------------------
def events_dtype(values) -> np.dtype:
    """The dtype of a 1-D integer ``numpy.ndarray``; :class:`SchemaError` for anything else."""
    if not isinstance(values, np.ndarray):
        raise SchemaError(f"events must be a numpy.ndarray, not {type(values).__name__}")
    if values.ndim != 1:
        raise SchemaError(f"events must be 1-D, got {values.ndim} dimensions {values.shape}")
    dtype = values.dtype.newbyteorder("<") if values.dtype.itemsize > 1 else values.dtype
    if dtype not in EVENT_DTYPES:
        raise SchemaError(f"events have dtype {values.dtype}; supported: int8..int64, uint8..uint64")
    return dtype


def encode_events(values: np.ndarray, *, level: int = 3, transform: str = "auto") -> bytes:
    """One integer column -> an events blob (see the module docstring).

    Parameters
    ----------
    values : numpy.ndarray
        1-D, any of int8..int64, uint8..uint64 (either byte order), at most :data:`MAX_VALUES`.
    level : int
        zstd level of the sections (1-22).
    transform : {'auto', 'delta', 'for', 'delta-rank'}
        ``'auto'`` lets delta, frame of reference and ranked delta compete on the first 4096
        values (as the shard writer does); the others force one.
    """
    dtype = events_dtype(values)
    if transform not in TRANSFORMS:
        raise SchemaError(f"transform must be one of {sorted(TRANSFORMS)}, not {transform!r}")
    if type(level) is not int or not 1 <= level <= 22:
        raise LimitError(f"zstd level must be an integer in [1, 22], not {level!r}")
    if values.size > MAX_VALUES:
        raise LimitError(f"{values.size} values in one events blob; at most {MAX_VALUES}")
    coded = np.ascontiguousarray(values, dtype)
    if dtype.str[1:] == "u8":
        coded = coded.view(np.int64)  # the transforms wrap modulo 2**64: exact either way
    elif dtype.str[1:] in _CODED_AS:
        coded = coded.astype(_CODED_AS[dtype.str[1:]])
    choice = TRANSFORMS[transform]
    params, sections = encode_ints(coded, None if choice is None else [choice, 1])
    cctx = zstandard.ZstdCompressor(level=level)
    raw = [np.ascontiguousarray(s).view(np.uint8).reshape(-1) for s in sections]
    frames = [cctx.compress(r) for r in raw]
    head = json.dumps(params, separators=(",", ":")).encode()
    parts = [_EVENTS_HEAD.pack(EVENTS_MAGIC, VERSION, EVENT_DTYPES.index(dtype), 0, values.size, len(head),
                               len(frames)), head]
    parts += [_SECTION.pack(r.size, len(f)) for r, f in zip(raw, frames)] + frames
    return _sealed(parts)


def _events_header(body: memoryview) -> tuple[np.dtype, int, dict, list, int]:
    """dtype, values, params, (raw, compressed) length of each section, where the sections start."""
    _, _, code, _, n, head_len, count = _EVENTS_HEAD.unpack_from(body, 0)
    if code >= len(EVENT_DTYPES):
        raise _bad(f"dtype code {code}; known codes are 0-{len(EVENT_DTYPES) - 1}")
    if n > MAX_VALUES:
        raise _bad(f"declares {n} values; a blob holds at most {MAX_VALUES}")
    if head_len > MAX_PARAMS or count > 9:
        raise _bad(f"declares {head_len} bytes of params and {count} sections (at most {MAX_PARAMS} and 9)")
    pos = _EVENTS_HEAD.size
    if pos + head_len + count * _SECTION.size > len(body):
        raise _bad(f"truncated at byte {len(body)}: its header needs {pos + head_len + count * _SECTION.size}")
    try:
        params = json.loads(bytes(body[pos:pos + head_len]))
    except ValueError as e:
        raise _bad(f"params are not JSON ({e})") from None
    pos += head_len
    sizes = [_SECTION.unpack_from(body, pos + j * _SECTION.size) for j in range(count)]
    return EVENT_DTYPES[code], n, params, sizes, pos + count * _SECTION.size


def decode_events(buf, out=None) -> np.ndarray:
    """An events blob -> its 1-D array (a new one, or ``out`` filled when given).

    ``out`` is a writeable ``numpy.ndarray`` of the blob's dtype and size (any shape, C order).
    Raises :class:`CorruptShardError` on a truncated, damaged or inconsistent blob.
    """
    body = _checked_body(buf, EVENTS_MAGIC, _EVENTS_HEAD)
    dtype, n, params, sizes, pos = _events_header(body)
    try:
        needed = int_sections(params)
    except EncoderError as e:
        raise e.located(shard="<blob>")
    if needed != len(sizes):
        raise _bad(f"holds {len(sizes)} sections; its codec {params.get('c')!r} uses {needed}")
    if pos + sum(c for _, c in sizes) != len(body):
        raise _bad(f"its sections declare {sum(c for _, c in sizes)} bytes; {len(body) - pos} follow the header")
    width = params.get("w") if isinstance(params.get("w"), int) else 8
    dctx, sections = zstandard.ZstdDecompressor(), []
    for j, (raw_len, comp_len) in enumerate(sizes):
        if raw_len > max(n * width, 2 * 255):  # a plane (or all of them grouped), or the rank table
            raise _bad(f"section {j} declares {raw_len} bytes for {n} values of {width} bytes")
        frame = body[pos:pos + comp_len]
        try:
            if zstandard.frame_content_size(frame) != raw_len:
                raise _bad(f"section {j} at byte {pos}: its zstd frame does not declare {raw_len} bytes")
            sections.append(dctx.decompress(frame, max_output_size=raw_len))
        except zstandard.ZstdError as e:
            raise _bad(f"section {j} at byte {pos}: {e}") from None
        pos += comp_len
    coded = np.dtype(_CODED_AS.get(dtype.str[1:], dtype))
    try:
        values = decode_ints(params, sections, n, coded)
    except EncoderError as e:
        raise e.located(shard="<blob>")
    if dtype.str[1:] == "u8":
        values = values.view(dtype)
    elif coded != dtype:
        info = np.iinfo(dtype)
        if n and (int(values.min()) < info.min or int(values.max()) > info.max):
            raise _bad(f"decoded values leave the range of {dtype}")
        values = values.astype(dtype)
    if out is None:
        return values
    if not isinstance(out, np.ndarray) or out.dtype != dtype or out.size != n or not out.flags.writeable \
            or not out.flags.c_contiguous:
        raise SchemaError(f"out must be a writeable C-contiguous {dtype} array of {n} values")
    out.reshape(-1)[:] = values
    return out


# -- frames -------------------------------------------------------------------------------
def frames_shape(frames) -> tuple[int, int, int, int]:
    """``(N, H, W, C)`` of a frame chunk (``C`` is 1 for N x H x W); :class:`SchemaError` otherwise."""
    if not isinstance(frames, np.ndarray):
        raise SchemaError(f"frames must be a numpy.ndarray, not {type(frames).__name__}")
    if frames.dtype != np.uint8:
        raise SchemaError(f"frames must be uint8, not {frames.dtype}")
    if frames.ndim not in (3, 4):
        raise SchemaError(f"frames must be N x H x W x C or N x H x W, got shape {frames.shape}")
    n, h, w = frames.shape[:3]
    c = frames.shape[3] if frames.ndim == 4 else 1
    if c not in CHANNELS:
        raise SchemaError(f"frames have {c} channels; supported: {CHANNELS}")
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise (LimitError if max(h, w) > MAX_SIDE else SchemaError)(
            f"frames of {h} x {w} pixels; each side must be 1 to {MAX_SIDE}")
    if n >= 1 << 32:
        raise LimitError(f"{n} frames in one chunk; at most {(1 << 32) - 1}")
    return n, h, w, c


def encode_frames(frames: np.ndarray, *, level: int = 6, tile: int = 16) -> bytes:
    """A chunk of frames -> a frames blob (see the module docstring).

    Parameters
    ----------
    frames : numpy.ndarray
        ``uint8``, N x H x W x C (C in 1, 3, 4) or N x H x W.
    level : int
        zstd level of the tile pages (the shard's default, 6).
    tile : int
        Tile side in pixels, 4 to 256 (16 measured best on real 1080p desktops).
    """
    n, h, w, c = frames_shape(frames)
    shard = b""
    if n:
        sink = io.BytesIO()
        with ShardWriter(sink, metadata={"clock": _FIXED_CLOCK}, background=False, flush_seconds=None,
                         encryption_key=False) as writer:
            # the whole chunk is decoded at once: no refreshes or reach limits, the fewest bytes
            writer.configure_frames(tile=tile, level=level, background=False, page_budget=0, reach_pages=0,
                                    block_frames=max(1, min(n, 4096)))
            for i in range(n):
                frame = frames[i] if c != 1 else frames[i].reshape(h, w)
                writer.add_frame(i, np.ascontiguousarray(frame))
        shard = sink.getvalue()
    return _sealed([_FRAMES_HEAD.pack(FRAMES_MAGIC, VERSION, frames.ndim, c, 0, n, h, w, len(shard)), shard])


def decode_frames(buf, out=None) -> np.ndarray:
    """A frames blob -> its ``uint8`` N x H x W (x C) array (new, or ``out`` filled when given).

    Raises :class:`CorruptShardError` on a truncated, damaged or inconsistent blob.
    """
    body = _checked_body(buf, FRAMES_MAGIC, _FRAMES_HEAD)
    _, _, ndim, c, _, n, h, w, shard_len = _FRAMES_HEAD.unpack_from(body, 0)
    if ndim not in (3, 4) or c not in CHANNELS or (ndim == 3 and c != 1):
        raise _bad(f"declares {ndim} dimensions and {c} channels")
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise _bad(f"declares frames of {h} x {w} pixels")
    if _FRAMES_HEAD.size + shard_len != len(body) or (n == 0) != (shard_len == 0):
        raise _bad(f"declares a shard of {shard_len} bytes for {n} frames; {len(body) - _FRAMES_HEAD.size} follow")
    shape = (n, h, w, c) if ndim == 4 else (n, h, w)
    if out is not None:
        if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.size != n * h * w * c \
                or not out.flags.writeable or not out.flags.c_contiguous:
            raise SchemaError(f"out must be a writeable C-contiguous uint8 array of {n * h * w * c} values")
        target = out.reshape(shape)
    if n == 0:
        return np.empty(shape, np.uint8) if out is None else out
    reader = None
    try:
        reader = ShardReader(body[_FRAMES_HEAD.size:])
        _check_frame_index(reader, n, h, w, c)
        target = np.empty(shape, np.uint8) if out is None else target  # counts checked: allocate
        for i, frame in enumerate(reader.iter_frames(copy=False)):
            target[i] = frame.reshape(target.shape[1:])
    except EncoderError as e:
        raise e.located(shard="<blob>")
    finally:
        if reader is not None:
            reader.close()
    return target if out is None else out


def _check_frame_index(reader: ShardReader, n: int, h: int, w: int, c: int) -> None:
    """The shard holds exactly ``n`` frames of ``h x w`` with ``c`` channels, on screen 0."""
    if reader.frame_screens() not in ([0], []) or reader.frame_count() != n:
        raise _bad(f"its shard holds {reader.frame_count()} frames on screens {reader.frame_screens()}, "
                   f"the header declares {n}")
    formats = {1: ("gray",), 3: ("rgb", "bgr"), 4: ("bgra", "rgba")}[c]
    for i in range(n):
        info = reader.frame_info(i)
        if (info["height"], info["width"]) != (h, w) or info["format"] not in formats:
            raise _bad(f"frame {i} is {info['height']} x {info['width']} {info['format']}, "
                       f"the header declares {h} x {w} with {c} channels")
