"""Column codecs: lossless transforms of one column of one block into byte sections.

* :mod:`.columns`: the general codecs (integer byte planes, dictionary strings, binary values);
* :mod:`.keys`: the ``key`` stream's codecs that use its other columns as context;
* :mod:`.registry`: which codec a column uses (what the shard container calls);
* :mod:`.reference`: the NumPy executable spec of every kernel; the native kernels
  (``encoder._codec``, ``encoder._keys``, :mod:`._numba`) come from :mod:`encoder.backends`.
"""
from .columns import MAX_SECTION
from .registry import context_columns, decode_column, encode_column

__all__ = ["MAX_SECTION", "context_columns", "decode_column", "encode_column"]
