"""ShardReader: random access to the streams of one shard."""
from __future__ import annotations

import mmap
import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import zstandard

from ..errors import CorruptShardError, SchemaError
from ..streams import KINDS, Stream, builtin_streams
from ..streams.schema import VARIABLE
from . import crypto
from . import format as fmt
from .blocks import ChunkSource, check_descriptor, concat, stream_from_json
from .frames import ReaderFrames
from . import verification
from .scan import scan_blocks


@dataclass(frozen=True)
class BlockInfo:
    """Where one block lies and what it holds (from the footer index)."""
    stream: str
    rows: int
    t_min: int
    t_max: int
    offset: int
    stored_bytes: int  # compressed chunk bytes, padding excluded
    raw_bytes: int     # decompressed section bytes


class _FileView:
    """Slicing over a seekable file object (fsspec files, sockets-backed buffers)."""

    def __init__(self, f):
        self.f = f
        f.seek(0, os.SEEK_END)
        self.size = f.tell()

    def __len__(self):
        return self.size

    def __getitem__(self, key: slice):
        start, stop, _ = key.indices(self.size)
        self.f.seek(start)
        return self.f.read(max(0, stop - start))


def _open(source):
    """Return (buffer-like data, name, closer) for a path, bytes-like or file object."""
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        with open(name, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return b"", name, None
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return memoryview(mm), name, mm.close
    if isinstance(source, (bytes, bytearray, memoryview)):
        return memoryview(source).cast("B"), "<bytes>", None
    if hasattr(source, "read") and hasattr(source, "seek"):
        return _FileView(source), getattr(source, "path", getattr(source, "name", "<file>")), None
    raise TypeError(f"cannot read a shard from {type(source).__name__}")


class ShardReader(ReaderFrames):
    """Read a shard: its metadata, its streams, time ranges of rows, and its blocks.

    ``source`` is a path (memory-mapped), a bytes-like object, or a seekable binary file
    object such as one from ``fsspec.open`` (only the footer and the needed chunks are read).
    Structure and checksums are verified before anything is decompressed; any fault raises
    :class:`~encoder.errors.CorruptShardError` naming the shard, stream and byte offset.

    Parameters
    ----------
    source : str, os.PathLike, bytes-like or binary file object
    encryption_key, encryption_key_file : bytes, str or path, optional
        Encryption key of an encrypted shard (32 bytes or 64 hex digits), or a file holding it.
        Default: ``$ENCODER_KEY`` or ``$ENCODER_KEY_FILE``. Plain shards ignore it. Without the
        right key an encrypted shard raises :class:`~encoder.errors.EncryptionKeyRequiredError`.
        The former names ``key=`` and ``key_file=`` still work, with a :class:`DeprecationWarning`.
    recover : bool
        Read a shard whose footer is missing or damaged (its writer was killed) by scanning
        its blocks: every block completely written is read, the first incomplete one and
        everything after it are ignored. :attr:`recovered` then describes what was found.
        ``encoder repair`` writes such a shard back with a new footer.
    """

    @crypto.renamed_key_arguments
    def __init__(self, source, *, encryption_key=None, encryption_key_file=None, recover: bool = False):
        self._data, self.name, self._closer = _open(source)
        #: None when the footer was read; else the scan that replaced it (``recover=True``)
        self.recovered = None
        #: Regions a repair found damaged and dropped, from the footer: dicts with ``offset``,
        #: ``end`` (bytes, zeroed in the file), ``reason``, and ``stream``, ``rows``, ``t`` when known
        self.lost: list[dict] = []
        try:
            self._load(encryption_key, encryption_key_file, recover)
        except BaseException:
            self.close()
            raise

    def _load(self, encryption_key, encryption_key_file, recover: bool):
        data, name = self._data, self.name
        self.version, header, first = fmt.unpack_header(data[:fmt.HEADER.size + fmt.MAX_METADATA], name)
        spec = fmt.required_features(self.version, header, name)
        self._cipher = None
        if "encryption" in spec.get("required", ()):
            master = crypto.resolve_key(encryption_key, encryption_key_file)
            self._cipher = crypto.ShardCipher.from_header(spec.get("encryption"), master, name)
            header = fmt.loads(self._cipher.metadata(spec["encryption"], name), "metadata", shard=name,
                               offset=fmt.HEADER.size)
            if not isinstance(header, dict):
                raise CorruptShardError("metadata is not an object", shard=name, offset=fmt.HEADER.size)
        elif self.version[1] >= 1:
            header = {k: v for k, v in header.items() if k != "format"}
        self.metadata = header
        self._first = first
        try:
            schemas, blocks, end, self._footer_rows = self._read_footer(first)
            self._index(schemas, blocks, end)
        except CorruptShardError as exc:
            if not recover:
                raise
            self.recovered = scan_blocks(data, first, name, self._cipher, reason=str(exc), version=self.version)
            schemas, blocks, end = self.recovered.schemas, self.recovered.blocks, self.recovered.end
            self._footer_rows = None
            self._index(schemas, blocks, end)
        self._chunks = ChunkSource(data, name, self._cipher)
        self._data_end = min(end, len(data))  # a recovered last block may lack its padding

    def _read_footer(self, first: int):
        """(schemas, block descriptors, footer offset, rows) from the tail and the footer."""
        data, name = self._data, self.name
        size = len(data)
        if size < first + fmt.TAIL.size:
            raise CorruptShardError("no footer: the shard was not closed (its writer died?): read it with "
                                    "recover=True, or run `encoder repair`", shard=name, offset=size)
        tail_at = size - fmt.TAIL.size
        offset, length, raw, digest, magic = fmt.TAIL.unpack(bytes(data[tail_at:size]))
        if magic != fmt.END_MAGIC:
            raise CorruptShardError("no end magic: a truncated or unfinished shard (its writer died?): read it "
                                    "with recover=True, or run `encoder repair`", shard=name, offset=tail_at)
        if offset < first or offset + length != tail_at:
            raise CorruptShardError(f"footer at {offset} of {length} bytes does not fit the file",
                                    shard=name, offset=tail_at)
        if raw > fmt.footer_limit(offset):
            raise CorruptShardError(f"footer declares {raw} bytes of JSON, more than a shard of this size "
                                    f"can hold ({fmt.footer_limit(offset)})", shard=name, offset=tail_at)
        frame = bytes(data[offset:offset + length])
        if not fmt.checksum_matches(frame, digest):
            raise CorruptShardError("footer checksum mismatch", shard=name, offset=offset)
        if self._cipher is not None:
            frame = self._cipher.open(crypto.FOOTER, offset, frame, shard=name, offset=offset)
        try:
            if zstandard.frame_content_size(frame) != raw:
                raise CorruptShardError("footer frame size disagrees with the tail", shard=name, offset=offset)
            text = zstandard.ZstdDecompressor().decompress(frame, max_output_size=raw)
        except zstandard.ZstdError as exc:
            raise CorruptShardError(f"footer: zstd: {exc}", shard=name, offset=offset) from None
        footer = fmt.loads(text, "footer", shard=name, offset=offset)
        if not isinstance(footer, dict) or not isinstance(footer.get("streams"), dict) \
                or not isinstance(footer.get("blocks"), list) or len(footer["streams"]) > fmt.MAX_STREAMS:
            raise CorruptShardError("footer lacks streams or blocks", shard=name, offset=offset)
        schemas = {sname: stream_from_json(sname, spec, name, offset) for sname, spec in footer["streams"].items()}
        self.lost = _lost_regions(footer.get("lost", []), first, offset, name)
        rows = footer.get("rows")
        if rows is not None and not (isinstance(rows, dict) and set(rows) <= set(schemas)
                                     and all(type(n) is int for n in rows.values())):
            raise CorruptShardError("footer: malformed row counts", shard=name, offset=offset)
        return schemas, footer["blocks"], offset, rows

    def _index(self, schemas: dict, blocks: list, end: int) -> None:
        """Check every block descriptor (they lie between the header and ``end``, in file order,
        without overlapping) and index them by stream."""
        name = self.name
        self._schemas: dict[str, Stream] = schemas
        self._blocks: dict[str, list[dict]] = {s: [] for s in schemas}
        free, seq = self._first, -1  # where the next block may start; the last block's number
        builtin = builtin_streams(self.version)
        for desc in blocks:
            at = desc.get("offset") if isinstance(desc, dict) else None
            if type(at) is not int or not free <= at < end:
                raise CorruptShardError(f"the index lists a block at {at!r}: blocks must follow each other, "
                                        f"in file order, after the header and before byte {end}",
                                        shard=name, offset=end)
            stream, free = check_descriptor(desc, at, end, schemas, name, builtin)
            if stream.name not in schemas:
                raise CorruptShardError(f"block of undeclared stream {stream.name!r}", shard=name, offset=at)
            if desc["seq"] <= seq:
                raise CorruptShardError(f"block number {desc['seq']} after {seq}: blocks listed twice or out "
                                        "of order", shard=name, offset=at)
            seq = desc["seq"]
            self._blocks[stream.name].append(desc)

    # -- what is inside ---------------------------------------------------------------
    @property
    def streams(self) -> dict[str, pa.Schema]:
        """Stream name -> Arrow schema, for every stream the shard holds."""
        return {n: s.arrow_schema for n, s in self._schemas.items()}

    def num_rows(self, stream: str) -> int:
        return sum(b["rows"] for b in self._stream_blocks(stream))

    def time_range(self, stream: str) -> tuple[int, int] | None:
        blocks = [b for b in self._stream_blocks(stream) if b["rows"]]
        if not blocks:
            return None
        return min(b["t"][0] for b in blocks), max(b["t"][1] for b in blocks)

    @property
    def blocks(self) -> list[BlockInfo]:
        out = []
        for stream, blocks in self._blocks.items():
            for b in blocks:
                chunks = [c for _, cs in b["columns"] for c in cs]
                out.append(BlockInfo(stream, b["rows"], b["t"][0], b["t"][1], b["offset"],
                                     sum(c[1] for c in chunks), sum(c[2] for c in chunks)))
        return sorted(out, key=lambda b: b.offset)

    @property
    def size(self) -> int:
        return len(self._data)

    @property
    def encrypted(self) -> bool:
        """Whether the shard is encrypted (format 1.1, AES-256-GCM)."""
        return self._cipher is not None

    def _stream_blocks(self, stream: str) -> list[dict]:
        if stream not in self._blocks:
            raise SchemaError(f"not in this shard; it holds {sorted(self._blocks)}", shard=self.name,
                              stream=stream)
        return self._blocks[stream]

    # -- reading ----------------------------------------------------------------------
    def read(self, stream: str, columns=None, start_us: int | None = None,
             end_us: int | None = None) -> pa.Table:
        """Rows of ``stream`` with ``start_us <= t < end_us``, as a ``pyarrow.Table``.

        Only blocks whose time range overlaps the request are read, and only the requested
        ``columns`` of them (``t`` is read too when a range is given). Row order is the
        order in which rows were written.
        """
        blocks = self._stream_blocks(stream)
        spec = self._schemas[stream]
        names = [c.name for c in spec.columns] if columns is None else list(columns)
        for n in names:
            spec.column(n)  # raises SchemaError naming the unknown column
        lo = -(1 << 63) if start_us is None else int(start_us)
        hi = (1 << 63) if end_us is None else int(end_us)
        ranged = start_us is not None or end_us is not None
        wanted = [b for b in blocks if b["rows"] and b["t"][0] < hi and b["t"][1] >= lo]
        need = list(dict.fromkeys(names + (["t"] if ranged else [])))
        # Numeric columns are decoded straight into their final arrays (no concatenation);
        # a range that cuts blocks is applied once at the end.
        total = sum(b["rows"] for b in wanted)
        dense = {n: np.empty(total, KINDS[spec.column(n).kind][0]) for n in need
                 if spec.column(n).kind not in VARIABLE}
        pieces: dict[str, list] = {n: [] for n in need if n not in dense}
        pos = 0
        for b in wanted:
            rows = b["rows"]
            views = {n: a[pos:pos + rows] for n, a in dense.items()}
            decoded = self._chunks.columns(b["offset"], b, spec, need, out=views)
            for n in pieces:
                pieces[n].append(decoded[n])
            pos += rows
        columns_out = {n: [a] for n, a in dense.items()}
        columns_out.update(pieces)
        if ranged and any(not (b["t"][0] >= lo and b["t"][1] < hi) for b in wanted):
            t = dense["t"]
            keep = (t >= lo) & (t < hi)
            mask = pa.array(keep)
            columns_out = {n: [a[keep] if isinstance(a, np.ndarray) else a.filter(mask)
                               for a in [concat(v, None if n in dense else spec.column(n).arrow_type)]]
                           for n, v in columns_out.items()}
        return self._table(spec, names, columns_out)

    @staticmethod
    def _table(spec: Stream, names: list, pieces: dict) -> pa.Table:
        arrays = []
        for n in names:
            col = spec.column(n)
            variable = col.kind in ("string", "binary")
            values = concat(pieces[n], col.arrow_type if variable else None) if pieces[n] else \
                pa.array([], col.arrow_type)
            arrays.append(values if isinstance(values, pa.Array) else pa.array(values))
        return pa.Table.from_arrays(arrays, schema=pa.schema([spec.arrow_schema.field(n) for n in names]))

    def read_block(self, stream: str, index: int, columns=None) -> pa.Table:
        """All rows of the ``index``-th block of ``stream`` (random access by block)."""
        blocks = self._stream_blocks(stream)
        if not -len(blocks) <= index < len(blocks):
            raise IndexError(f"stream {stream!r} has {len(blocks)} blocks, not {index}")
        spec = self._schemas[stream]
        names = [c.name for c in spec.columns] if columns is None else list(columns)
        for n in names:
            spec.column(n)  # raises SchemaError naming the unknown column (a shard may declare anything)
        decoded = self._chunks.columns(blocks[index]["offset"], blocks[index], spec, names)
        return self._table(spec, names, {n: [v] for n, v in decoded.items()})

    def block_rows(self, stream: str) -> list[int]:
        """Rows in each block of ``stream``, in write order."""
        return [b["rows"] for b in self._stream_blocks(stream)]

    def block_constants(self, stream: str, columns: list) -> dict | None:
        """``columns`` of ``stream`` read from the block index alone, when every block holds one
        row stored as constants (int64 arrays, one value per block); else None.

        A one-row block stores each integer column as a constant in its descriptor, so the
        page index of a long session (hundreds of screen-tile pages) needs no decoding.
        """
        spec, blocks = self._schemas[stream], self._stream_blocks(stream)
        where = [spec.columns.index(spec.column(n)) for n in columns]
        out = {n: np.empty(len(blocks), np.int64) for n in columns}
        for b, desc in enumerate(blocks):
            if desc["rows"] != 1:
                return None
            for n, i in zip(columns, where):
                params = desc["columns"][i][0]
                value = params.get("v") if isinstance(params, dict) and params.get("c") == "const" else None
                if type(value) is not int or not -(1 << 63) <= value < (1 << 63):
                    return None
                out[n][b] = value
        return out

    def read_value_into(self, stream: str, block: int, column: str, into: np.ndarray | None = None,
                        prefix: int | None = None) -> np.ndarray:
        """The bytes of the one value of binary ``column`` in one-row ``block`` of ``stream``.

        With ``into`` (a writable ``uint8`` array as long as the value must be), the value is
        decompressed straight into it and a view of it is returned; with ``prefix`` as well,
        only its first ``prefix`` bytes when the value is stored as one plain chunk (the
        chunk's checksum still covers all of it). A value of another length raises
        :class:`~encoder.errors.CorruptShardError`.
        """
        spec, desc = self._schemas[stream], self._stream_blocks(stream)[block]
        index = spec.columns.index(spec.column(column))
        params, chunks = desc["columns"][index]
        size = None if into is None else len(into)
        if size is not None and params == {"c": "bytes", "len": {"c": "const", "v": size}, "nb": 1} \
                and len(chunks) == 1 and chunks[0][2] == size:
            number = sum(len(c[1]) for c in desc["columns"][:index])  # the chunk's number in its block
            want = size if prefix is None else min(size, prefix)
            self._chunks.section(desc["offset"], chunks[0], stream, column, into=memoryview(into),
                                 number=number, prefix=None if want == size else want)
            return into[:want]
        values = self._chunks.columns(desc["offset"], desc, spec, [column])[column]
        if len(values) != 1:
            raise CorruptShardError(f"block {block} holds {len(values)} values, not one", shard=self.name,
                                    stream=stream, column=column, offset=desc["offset"])
        buffers = values.buffers()
        wide = values.type in (pa.large_binary(), pa.large_string())
        offsets = np.frombuffer(buffers[1], np.int64 if wide else np.int32)[values.offset:values.offset + 2]
        data = np.frombuffer(buffers[2], np.uint8)[offsets[0]:offsets[1]] if buffers[2] is not None \
            else np.zeros(0, np.uint8)
        if size is not None:
            if len(data) != size:
                raise CorruptShardError(f"block {block} holds a value of {len(data)} bytes, {size} expected",
                                        shard=self.name, stream=stream, column=column, offset=desc["offset"])
            into[:] = data
            return into
        return data

    def verify(self) -> dict:
        """Check every byte of the shard; returns the rows of each stream.

        Every checksum, every block header against the footer index, every column decoded,
        every frame assembled, and every byte that no checksum covers (alignment padding, and
        regions that a repair declared lost) must be zero. Frames whose tiles a repair
        declared lost (:attr:`lost`) are counted, not errors (``frame_damage()`` lists them).
        """
        return verification.verify(self)

    def _unsealer(self, block_offset: int):
        """Decrypts the descriptor record of the block at ``block_offset`` (None: plain shard)."""
        cipher = self._cipher
        if cipher is None:
            return None
        return lambda record: cipher.open(crypto.DESCRIPTOR, block_offset, record, shard=self.name,
                                          offset=block_offset)

    def check_blocks(self, deep: bool = False) -> list:
        """Every block of the index checked on its own: its header record against the index
        and every chunk's checksum (``deep``: every column decoded too). Returns the
        :class:`~encoder.shard.verification.BlockDamage` of each damaged block; never raises
        for damage, so one bad chunk does not hide the rest of the shard."""
        return verification.check_blocks(self, deep)

    # -- lifetime ---------------------------------------------------------------------
    def close(self):
        closer, self._closer = getattr(self, "_closer", None), None
        if isinstance(getattr(self, "_data", None), memoryview):
            self._data.release()
        self._data = b""
        if hasattr(self, "_chunks"):
            self._chunks.data = b""
        if closer is not None:
            try:
                closer()
            except BufferError:  # a caller still holds a zero-copy view; the map closes with it
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"ShardReader({self.name!r}, streams={sorted(self._schemas)})"


def _lost_regions(lost, first: int, footer_at: int, name) -> list[dict]:
    """The footer's ``lost`` list, checked: byte ranges in file order between the header and
    the footer, each with a reason (docs/format.md, Footer)."""
    out, pos = [], first
    if not isinstance(lost, list):
        raise CorruptShardError("footer: malformed lost regions", shard=name, offset=footer_at)
    for region in lost:
        start = region.get("offset") if isinstance(region, dict) else None
        end = region.get("end") if isinstance(region, dict) else None
        if type(start) is not int or type(end) is not int or not pos <= start < end <= footer_at \
                or not isinstance(region.get("reason"), str):
            raise CorruptShardError("footer: malformed lost region", shard=name, offset=footer_at)
        out.append(dict(region))
        pos = end
    return out
