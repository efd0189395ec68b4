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
