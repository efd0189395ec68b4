"""Which implementation of the column kernels is loaded.

The native core (Cython encode kernels in ``encoder._codec``, Numba decode kernels in
:mod:`encoder.codecs._numba`) is required by default: a silent slow fallback would be a
bug. ``ENCODER_BACKEND=reference`` selects the NumPy reference explicitly (tests, debugging).
"""
from __future__ import annotations

import os

from . import reference

BACKEND = os.environ.get("ENCODER_BACKEND", "native")

if BACKEND == "reference":
    from .reference import pair_join_reference as pair_join
    from .reference import pair_rows_reference as pair_rows
    from .reference import pair_split_reference as pair_split
    scan, transform, split_planes, decode_planes, rank_table, apply_rank = (
        reference.scan, reference.transform, reference.split_planes, reference.decode_planes,
        reference.rank_table, reference.apply_rank)
elif BACKEND == "native":
    try:
        from .. import _codec, _keys  # noqa: F401
    except ImportError as exc:  # pragma: no cover - a broken install, not a runtime choice
        raise ImportError("encoder's native core (encoder._codec, encoder._keys) is not built; reinstall with "
                          "`pip install .`, or set ENCODER_BACKEND=reference for the slow "
                          f"NumPy reference ({exc})") from exc
    from .._keys import pair_join, pair_rows, pair_split

    def decode_planes(*args, **kwargs):
        """Import the Numba decode kernel on first use and put it in this function's place.

        Writers never decode, and importing Numba costs ~60 MB of resident memory and ~0.5 s
        that an all-day recorder should not pay (docs/capture.md).
        """
        global decode_planes
        from ._numba import decode_planes
        return decode_planes(*args, **kwargs)

    scan, transform, split_planes = _codec.scan, _codec.transform, _codec.split_planes
    rank_table, apply_rank = _codec.rank_table, _codec.apply_rank
else:
    raise ImportError(f"ENCODER_BACKEND must be 'native' or 'reference', not {BACKEND!r}")
