"""Mutations of shards: raw damage (what storage and transfers do) and crafted edits with valid
checksums (what an attacker, or a buggy writer, does).

Every mutator takes ``(data, rng)`` and returns the mutated bytes, or None when it does not
apply to that input. ``RAW`` mutators leave checksums alone: a reader must reject the result or
return exactly the original data, and ``verify()`` must reject it. ``CRAFTED`` mutators re-seal
every checksum they touch: a reader must answer with an EncoderError or decode *something*
(a crafted shard is a different, valid-looking shard), and must never crash, hang or allocate
without bound.
"""
from __future__ import annotations

import json
import struct

import numpy as np
import zstandard

from encoder.shard import format as fmt

#: Values that crafted JSON edits plant: huge counts, negatives, wrong types.
NASTY = [0, 1, -1, 2, 7, 63, 64, 65, 255, 256, 4096, 65535, 1 << 17, (1 << 17) + 1, 1 << 20, (1 << 20) + 1,
         1 << 31, 1 << 32, (1 << 63) - 1, 1 << 63, 1 << 64, -(1 << 63), 10 ** 30, 0.5, 1e308, "", "x", "planes",
         "const", "dict", "bytes", "pair", "dictp", None, True, False, [], {}, [0], [[]], {"c": "const"},
         [0, -1], [1, 0], ["t", "int64", 0]]

_DCTX = zstandard.ZstdDecompressor()
_CCTX = zstandard.ZstdCompressor(level=1)


class Layout:
    """Where the parts of a plain, complete shard lie (None when ``data`` is not one)."""

    def __init__(self, data: bytes):
        self.data = data
        size = int.from_bytes(data[12:16], "little")
        self.first = fmt.HEADER.size + size + fmt.pad(fmt.HEADER.size + size)
        off, length, raw, _, magic = fmt.TAIL.unpack(data[-fmt.TAIL.size:])
        if magic != fmt.END_MAGIC:
            raise ValueError("no tail")
        self.footer_offset, self.footer_length = off, length
        self.footer = json.loads(_DCTX.decompress(data[off:off + length]))
        self.blocks = []  # (offset, end incl. padding, header length)
        for b in self.footer["blocks"]:
            o = b["offset"]
            desc_len = struct.unpack_from("<I", data, o + 8)[0]
            ends = [o + fmt.block_header_size(desc_len)] + [o + c[0] + c[1] + fmt.pad(c[1])
                                                           for _, cs in b["columns"] for c in cs]
            self.blocks.append((o, max(ends), fmt.BLOCK_HEADER.size + desc_len))

    @classmethod
    def of(cls, data: bytes):
        try:
            return cls(data)
        except Exception:  # noqa: BLE001 - not a plain complete shard: crafted mutators skip it
            return None


def reseal_footer(data: bytes, layout: Layout, footer) -> bytes:
    """``data`` with ``footer`` (any JSON value) as its footer, checksums valid."""
    text = json.dumps(footer, separators=(",", ":")).encode()
    frame = _CCTX.compress(text)
    off = layout.footer_offset
    return data[:off] + frame + fmt.TAIL.pack(off, len(frame), len(text), fmt.checksum(frame), fmt.END_MAGIC)


def reseal_block(data: bytes, layout: Layout, index: int, desc) -> bytes | None:
    """``data`` with block ``index``'s header holding ``desc``, if it fits before the first chunk."""
    offset, _, _ = layout.blocks[index]
    chunks = [offset + c[0] for _, cs in layout.footer["blocks"][index]["columns"] for c in cs]
    room = (min(chunks) if chunks else layout.blocks[index][1]) - offset
    if not 0 < room <= len(data) - offset:
        return None  # an index crafted earlier (a fuzzer's input) points past the file: no room to fill
    text = json.dumps(desc, separators=(",", ":")).encode()
    head = fmt.BLOCK_HEADER.pack(fmt.BLOCK_MAGIC, len(text), 0, 0)[:16]
    head += struct.pack("<Q", fmt.checksum(head + text)) + text
    if len(head) > room:
        return None
    return data[:offset] + head + bytes(room - len(head)) + data[offset + room:]


def _leaves(obj, path=()):
    """Paths to every value inside a JSON document."""
    yield path
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, path + (i,))


def _set(obj, path, value):
    if not path:
        return value
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


def _plant(doc, rng):
    """A deep copy of ``doc`` with one value replaced, a list entry dropped or duplicated."""
    doc = json.loads(json.dumps(doc))
    paths = list(_leaves(doc))
    path = paths[int(rng.integers(len(paths)))]
    kind = rng.random()
    if kind < 0.75 or not path:
        value = NASTY[int(rng.integers(len(NASTY)))]
        if rng.random() < 0.3:  # a plausible number near the old one
            old = _get(doc, path)
            if type(old) is int:
                value = old + int(rng.integers(-3, 4)) * int(rng.choice([1, 64, 1000, 1 << 16]))
        return _set(doc, path, value)
    parent = _get(doc, path[:-1])
    if isinstance(parent, list):
        if kind < 0.9:
            parent.insert(path[-1], json.loads(json.dumps(parent[path[-1]])))
        else:
            del parent[path[-1]]
    elif isinstance(parent, dict):
        del parent[path[-1]]
    return doc


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


# -- raw damage -------------------------------------------------------------------------------
def flip_bits(data, rng):
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        pos = int(rng.integers(len(out)))
        out[pos] ^= 1 << int(rng.integers(8))
    return bytes(out)


def overwrite_run(data, rng):
    out = bytearray(data)
    size = int(rng.integers(1, 65))
    pos = int(rng.integers(len(out)))
    fill = rng.choice(["zero", "ones", "random"])
    run = bytes(size) if fill == "zero" else b"\xff" * size if fill == "ones" else rng.bytes(size)
    out[pos:pos + size] = run[:len(out) - pos]
    return bytes(out)


def truncate(data, rng):
    return data[:int(rng.integers(len(data)))]


def extend(data, rng):
    return data + (rng.bytes(int(rng.integers(1, 200))) if rng.random() < 0.5 else bytes(int(rng.integers(1, 200))))


def insert_bytes(data, rng):
    pos = int(rng.integers(len(data) + 1))
    return data[:pos] + rng.bytes(int(rng.integers(1, 64))) + data[pos:]


def delete_run(data, rng):
    pos = int(rng.integers(len(data)))
    return data[:pos] + data[pos + int(rng.integers(1, 64)):]


def swap_blocks(data, rng):
    """Two blocks change places in the file; the index still points at the old places."""
    layout = Layout.of(data)
    if layout is None or len(layout.blocks) < 2:
        return None
    i, j = sorted(rng.choice(len(layout.blocks), 2, replace=False).tolist())
    (a0, a1, _), (b0, b1, _) = layout.blocks[i], layout.blocks[j]
    return data[:a0] + data[b0:b1] + data[a1:b0] + data[a0:a1] + data[b1:]


def duplicate_block(data, rng):
    """A block appears twice in a row (a replayed write)."""
    layout = Layout.of(data)
    if layout is None or not layout.blocks:
        return None
    a0, a1, _ = layout.blocks[int(rng.integers(len(layout.blocks)))]
    return data[:a1] + data[a0:a1] + data[a1:]


def splice_foreign(data, rng, other: bytes = b""):
    """A piece of another shard pasted in (a misdirected write)."""
    if not other:
        return None
    size = int(rng.integers(1, min(len(other), 2048) + 1))
    src, dst = int(rng.integers(len(other) - size + 1)), int(rng.integers(len(data)))
    return data[:dst] + other[src:src + size] + data[dst + size:]


# -- crafted (checksums valid) ----------------------------------------------------------------
def craft_footer(data, rng):
    """One value of the footer JSON changed (huge counts, wrong types, ...), footer re-sealed."""
    layout = Layout.of(data)
    return None if layout is None else reseal_footer(data, layout, _plant(layout.footer, rng))


def craft_block(data, rng):
    """One value of a block descriptor changed in its header and in the footer, both re-sealed."""
    layout = Layout.of(data)
    if layout is None or not layout.blocks:
        return None
    i = int(rng.integers(len(layout.blocks)))
    entry = layout.footer["blocks"][i]
    desc = {k: v for k, v in entry.items() if k != "offset"}
    offset = layout.blocks[i][0]
    if "schema" not in desc:  # a declared stream's header carries its schema
        head = json.loads(data[offset + 24:offset + layout.blocks[i][2]])
        if "schema" in head:
            desc["schema"] = head["schema"]
    new = _plant(desc, rng)
    out = reseal_block(data, layout, i, new)
    if out is None:
        return None
    footer = json.loads(json.dumps(layout.footer))
    if isinstance(new, dict):
        footer["blocks"][i] = dict({k: v for k, v in new.items() if k != "schema"}, offset=offset)
    return reseal_footer(out, layout, footer)


def reorder_index(data, rng):
    """The footer lists its blocks in another order, twice, or not at all."""
    layout = Layout.of(data)
    if layout is None or not layout.blocks:
        return None
    footer = json.loads(json.dumps(layout.footer))
    blocks = footer["blocks"]
    choice = rng.random()
    if choice < 0.4 and len(blocks) > 1:
        order = rng.permutation(len(blocks))
        footer["blocks"] = [blocks[k] for k in order]
    elif choice < 0.8:
        k = int(rng.integers(len(blocks)))
        blocks.insert(k, json.loads(json.dumps(blocks[k])))
    else:
        del blocks[int(rng.integers(len(blocks)))]
    return reseal_footer(data, layout, footer)


def craft_chunk(data, rng):
    """A chunk replaced by another zstd frame (random bytes of the same or another size), its
    size, raw size and checksum updated in both descriptors: reaches the column codecs."""
    layout = Layout.of(data)
    if layout is None or not layout.blocks:
        return None
    i = int(rng.integers(len(layout.blocks)))
    entry = layout.footer["blocks"][i]
    chunks = [(ci, k) for ci, (_, cs) in enumerate(entry["columns"]) for k in range(len(cs))]
    if not chunks:
        return None
    ci, k = chunks[int(rng.integers(len(chunks)))]
    start, size, raw, _ = entry["columns"][ci][1][k]
    offset = entry["offset"]
    if not (0 <= start and 0 <= size and offset + start + size <= len(data) and 0 <= raw <= fmt.MAX_CHUNK_RAW):
        # a descriptor crafted earlier (a fuzzer's input): the chunk is not in the file, or a payload
        # of its claimed raw size would take gigabytes and seconds to make, in the mutator itself
        return None
    new_raw = raw if rng.random() < 0.6 else int(rng.integers(0, 2 * raw + 2))
    mode = rng.random()
    payload = rng.bytes(new_raw) if mode < 0.5 else bytes(new_raw) if mode < 0.7 else \
        bytes(rng.integers(0, 4, new_raw, dtype=np.uint8))
    frame = _CCTX.compress(payload)
    if len(frame) > size + fmt.pad(size):
        return None
    out = bytearray(data)
    out[offset + start:offset + start + size + fmt.pad(size)] = frame + bytes(size + fmt.pad(size) - len(frame))
    footer = json.loads(json.dumps(layout.footer))
    footer["blocks"][i]["columns"][ci][1][k] = [start, len(frame), new_raw, fmt.checksum(frame)]
    desc = {k2: v for k2, v in footer["blocks"][i].items() if k2 != "offset"}
    head = json.loads(data[offset + 24:offset + layout.blocks[i][2]])
    if "schema" in head:
        desc["schema"] = head["schema"]
    resealed = reseal_block(bytes(out), layout, i, desc)
    if resealed is None:
        return None
    return reseal_footer(resealed, layout, footer)


def craft_metadata(data, rng):
    """The header's metadata JSON changed and re-sealed (kept within the header's padding)."""
    layout = Layout.of(data)
    if layout is None:
        return None
    size = int.from_bytes(data[12:16], "little")
    meta = json.loads(data[24:24 + size])
    text = json.dumps(_plant(meta, rng), separators=(",", ":")).encode()
    if fmt.HEADER.size + len(text) > layout.first:
        return None
    fixed = data[:8] + struct.pack("<HHI", *struct.unpack_from("<HH", data, 8), len(text))
    head = fixed + struct.pack("<Q", fmt.checksum(fixed + text)) + text
    return head + bytes(layout.first - len(head)) + data[layout.first:]


def huge_counts(data, rng):
    """The tail, a block header or the metadata length claim absurd sizes (checksums left alone
    where they are not recomputable, re-sealed where they are)."""
    out = bytearray(data)
    choice = rng.random()
    big = int(rng.choice([1 << 31, (1 << 32) - 1, 1 << 30, 1 << 20, (1 << 20) + 1]))
    if choice < 0.3 and len(out) >= fmt.TAIL.size:  # footer raw length
        struct.pack_into("<I", out, len(out) - 20, big)
    elif choice < 0.6 and len(out) >= fmt.TAIL.size:  # footer length / offset
        struct.pack_into("<Q" if rng.random() < 0.5 else "<I", out, len(out) - 32 + (0 if rng.random() < 0.5 else 8),
                         big)
    elif len(out) >= 16:
        struct.pack_into("<I", out, 12, big)
    return bytes(out)


RAW = [flip_bits, overwrite_run, truncate, extend, insert_bytes, delete_run, swap_blocks, duplicate_block,
       splice_foreign, huge_counts]
CRAFTED = [craft_footer, craft_block, reorder_index, craft_chunk, craft_metadata]
#: Relative frequencies in the mutation test.
WEIGHTS = {flip_bits: 6, overwrite_run: 3, truncate: 2, extend: 1, insert_bytes: 1, delete_run: 1,
           swap_blocks: 1, duplicate_block: 1, splice_foreign: 1, huge_counts: 1, craft_footer: 4,
           craft_block: 4, reorder_index: 1, craft_chunk: 3, craft_metadata: 1}
