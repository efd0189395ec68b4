"""Checking a shard: every byte (``verify``), or block by block without stopping (``check_blocks``).

``verify`` is all or nothing: the first fault raises. ``check_blocks`` checks each block of
the index on its own and lists the damaged ones, so that a summary (``encoder inspect``) or a
repair can go on around one bad chunk. Regions a repair declared lost (the footer's ``lost``)
must hold zeros only; frames whose tiles lay there are counted, not errors.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import CorruptShardError, EncoderError
from . import format as fmt


@dataclass(frozen=True)
class BlockDamage:
    """A damaged block of the index: where it lies, what it held, what is wrong."""
    stream: str
    block: int        # its number among the blocks of its stream
    offset: int
    end: int          # end of its last chunk
    rows: int
    t_min: int
    t_max: int
    reason: str


def block_end(desc: dict) -> int:
    """Where a block's last chunk ends (its header record comes first)."""
    chunks = [c for _, cs in desc["columns"] for c in cs]
    return desc["offset"] + max((c[0] + c[1] for c in chunks), default=0)


def check_header(reader, stream: str, desc: dict) -> int:
    """The block's header record matches the index; returns the record's size."""
    spec = reader._schemas[stream]
    local, head = fmt.unpack_block_header(reader._data, desc["offset"], reader.name, reader._unsealer(desc["offset"]))
    if local.pop("schema", spec.to_json()) != spec.to_json():
        raise CorruptShardError("block header declares another schema", shard=reader.name, stream=stream,
                                offset=desc["offset"])
    if local != {k: v for k, v in desc.items() if k not in ("offset", "schema")}:
        raise CorruptShardError("block header disagrees with the footer index", shard=reader.name, stream=stream,
                                offset=desc["offset"])
    return head


def check_chunks(reader, stream: str, desc: dict) -> None:
    """Every chunk of the block is present and matches its checksum (nothing decompressed)."""
    for column, (_, chunks) in zip(reader._schemas[stream].columns, desc["columns"]):
        for chunk in chunks:
            start, size, _, digest = chunk
            at = desc["offset"] + start
            frame = reader._data[at:at + size]
            if len(frame) != size or not fmt.checksum_matches(frame, digest):
                raise CorruptShardError("chunk checksum mismatch" if len(frame) == size else "truncated chunk",
                                        shard=reader.name, stream=stream, column=column.name, offset=at)


def check_blocks(reader, deep: bool = False) -> list[BlockDamage]:
    damaged = []
    for stream, blocks in reader._blocks.items():
        spec = reader._schemas[stream]
        for number, desc in enumerate(blocks):
            try:
                check_header(reader, stream, desc)
                check_chunks(reader, stream, desc)
                if deep:
                    reader._chunks.columns(desc["offset"], desc, spec, [c.name for c in spec.columns])
            except EncoderError as exc:
                where = ", ".join(([f"column {exc.column!r}"] if exc.column else [])
                                  + ([f"byte {exc.offset}"] if exc.offset is not None else []))
                damaged.append(BlockDamage(stream, number, desc["offset"], block_end(desc), desc["rows"],
                                           desc["t"][0], desc["t"][1], f"{where}: {exc.detail}" if where else exc.detail))
    return sorted(damaged, key=lambda d: d.offset)


def verify(reader) -> dict:
    """See :meth:`encoder.ShardReader.verify`."""
    data, name = reader._data, reader.name
    counts = {}
    frames = "frame" in reader._schemas and bool(reader._blocks.get("frame"))
    meta_len = int.from_bytes(bytes(data[12:16]), "little")
    covered = [(0, fmt.HEADER.size + meta_len), (reader._data_end, len(data))]
    for region in reader.lost:  # zeroed by the repair that declared it
        if bytes(data[region["offset"]:region["end"]]).strip(b"\0"):
            raise CorruptShardError("a region declared lost holds data", shard=name, offset=region["offset"])
        covered.append((region["offset"], region["end"]))
    for stream, blocks in reader._blocks.items():
        spec = reader._schemas[stream]
        for desc in blocks:
            head = check_header(reader, stream, desc)
            covered.append((desc["offset"], desc["offset"] + head))
            covered += [(desc["offset"] + c[0], desc["offset"] + c[0] + c[1]) for _, cs in desc["columns"] for c in cs]
            names = [c.name for c in spec.columns]
            if frames and stream == "tile":  # the frame check below decodes and checks every page
                names.remove("page")
            reader._chunks.columns(desc["offset"], desc, spec, names)
        counts[stream] = sum(b["rows"] for b in blocks)
    footer_rows = reader._footer_rows
    if footer_rows is not None and any(footer_rows.get(s, 0) != n for s, n in counts.items()):
        raise CorruptShardError(f"footer row counts {footer_rows} disagree with its blocks {counts}", shard=name,
                                offset=reader._data_end)
    _check_padding(data, sorted(covered), name)
    if frames:
        reader._verify_frames()  # every page and every frame decodes (encoder/tiles)
    return counts


def _check_padding(data, covered: list, name) -> None:
    """Bytes outside every covered range must be zero padding shorter than the alignment."""
    pos = 0
    for start, end in covered:
        if start < pos:
            raise CorruptShardError("regions overlap", shard=name, offset=start)
        gap = bytes(data[pos:start])
        if len(gap) >= fmt.ALIGN or gap.strip(b"\0"):
            raise CorruptShardError("stray bytes between regions", shard=name, offset=pos)
        pos = end
