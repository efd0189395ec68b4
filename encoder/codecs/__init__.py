"""Column codecs: lossless transforms of one column of one block into byte sections.

* :mod:`.columns`: the general codecs (integer byte planes, dictionary strings, binary values);
* :mod:`.keys`: the ``key`` stream's codecs that use its other columns as context;
* :mod:`.registry`: which codec a column uses (what the shard container calls);
* :mod:`.reference`: the NumPy executable spec of every kernel; the native kernels
  (``encoder._codec``, ``encoder._keys``, :mod:`._numba`) come from :mod:`encoder.backends`.
"""
from .. import backends

_NAMES = ("scan", "transform", "split_planes", "rank_table", "apply_rank", "decode_planes", "pair_rows",
          "pair_split", "pair_join")


def _native_set() -> dict:
    codec, keys = backends.native("_codec"), backends.native("_keys")
    return {n: getattr(codec if n in _NAMES[:5] else keys, n) for n in _NAMES if n != "decode_planes"}


def _numba_set() -> dict:
    from . import _numba
    return {"decode_planes": _numba.decode_planes}


def _reference_set() -> dict:
    from . import reference
    return {n: getattr(reference, n) for n in _NAMES}


def _warmup() -> None:
    from . import _numba
    _numba.warmup()


backends.declare("codecs", native=_native_set, reference=_reference_set, lazy=("decode_planes",), native_lazy=_numba_set,
                 warmup=_warmup)

from .columns import MAX_SECTION  # noqa: E402  (the kernels are declared first)
from .registry import context_columns, decode_column, encode_column  # noqa: E402

__all__ = ["MAX_SECTION", "context_columns", "decode_column", "encode_column"]
