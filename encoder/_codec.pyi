"""Type stub of the Cython encode kernels (ext/_codec.pyx); see encoder.codecs.reference."""
from typing import Final, SupportsIndex

import numpy as np
import numpy.typing as npt

DELTA: Final[int]
FOR: Final[int]

def scan(values: npt.NDArray[np.integer] | npt.NDArray[np.bool_], mode: int) -> tuple[int, int]: ...
def transform(values: npt.NDArray[np.integer] | npt.NDArray[np.bool_], mode: int,
              base: SupportsIndex, step: SupportsIndex) -> npt.NDArray[np.uint64]: ...
def split_planes(u: npt.NDArray[np.uint64], width: SupportsIndex) -> npt.NDArray[np.uint8]: ...
def encode_planes(values: npt.NDArray[np.integer] | npt.NDArray[np.bool_], mode: int,
                  base: SupportsIndex, step: SupportsIndex,
                  width: SupportsIndex) -> npt.NDArray[np.uint8]: ...

def rank_table(u: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint16]:
    """Most frequent codes below 2**16 seen at least twice (at most 255), most frequent first."""

def apply_rank(u: npt.NDArray[np.uint64], table: npt.NDArray[np.uint16]) -> npt.NDArray[np.uint64]:
    """Position in ``table`` for table codes, ``u + len(table)`` otherwise."""
