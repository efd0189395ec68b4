"""Which codec codes a column: the general ones (:mod:`.columns`) or a stream's own (:mod:`.keys`).

The shard container calls only these three functions; a codec's ``params["c"]`` names it, so
a reader finds the decoder of every column from the block descriptor alone.
"""
from __future__ import annotations

from ..errors import CorruptShardError
from ..streams.schema import KINDS
from .columns import decode_ints, decode_varlen, encode_ints, encode_varlen, int_sections
from .keys import DECODERS, ENCODERS


def encode_column(kind: str, values, stream: str = "", column: str = "", context: dict | None = None,
                  hints: dict | None = None):
    """Code one validated column (see :func:`encoder.streams.validate`) -> (params, sections).

    ``context`` holds the block's other columns; codecs of some built-in columns use them
    (:mod:`encoder.codecs.keys`). ``hints`` is a dict a writer keeps per stream between blocks
    (see :func:`encode_ints`).
    """
    special = ENCODERS.get((stream, column))
    if special is not None and context is not None:
        return special(values, context)
    if kind in ("string", "binary"):
        return encode_varlen(values, kind)
    return encode_ints(values, None if hints is None else hints.setdefault(column, [0, 0]))


def context_columns(params) -> list:
    """Names of the columns that a coded column needs decoded first."""
    special = DECODERS.get(params.get("c")) if isinstance(params, dict) else None
    if special is None:
        return []
    if params.get("ctx") != special[1]:
        raise CorruptShardError(f"codec {params['c']!r} lists context {params.get('ctx')!r}, expected {special[1]}")
    return special[1]


def decode_column(kind: str, params, sections: list, n: int, context: dict | None = None, out=None):
    """Decode one column; NumPy array for numeric kinds, ``pyarrow.Array`` for string/binary.

    ``context`` maps the names in :func:`context_columns` to their decoded arrays; numeric
    columns are written into ``out`` (``n`` values of the column's dtype) when it is given.
    """
    if not isinstance(params, dict):
        raise CorruptShardError(f"codec parameters are {type(params).__name__}, not an object")
    special = DECODERS.get(params.get("c"))
    if special is not None:
        if special[0] != kind:
            raise CorruptShardError(f"codec {params['c']!r} cannot hold a {kind} column")
        needed = context_columns(params)
        if context is None or any(c not in context for c in needed):
            raise CorruptShardError(f"codec {params['c']!r} needs context columns {needed}")
        values = special[2](params, sections, n, context)
        if out is not None:
            out[:] = values
            return out
        return values
    if kind in ("string", "binary"):
        return decode_varlen(params, sections, n, kind)
    if len(sections) != int_sections(params):
        raise CorruptShardError(f"column has {len(sections)} sections, its codec uses {int_sections(params)}")
    return decode_ints(params, sections, n, KINDS[kind][0], out=out)
