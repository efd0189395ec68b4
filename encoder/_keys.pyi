"""Native kernels of the key-stream codec (ext/_keys.pyx)."""
import numpy as np
import numpy.typing as npt

def pair_rows(code: npt.ArrayLike, pressed: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The row each key-up releases, or -1 for anchors."""

def pair_split(t: npt.ArrayLike, code: npt.ArrayLike,
               pressed: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(anchor times, dwells of paired key-ups), each in row order."""

PAIR_COUNTS: int

def pair_join(code: npt.ArrayLike, pressed: npt.ArrayLike, anchors: npt.ArrayLike,
              dwells: npt.ArrayLike, t: npt.NDArray[np.int64]) -> int:
    """The inverse of pair_split, into ``t``: 0, or PAIR_COUNTS when the counts do not match the pairing."""
