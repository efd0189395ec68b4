"""Declares the Cython extensions only; everything else lives in pyproject.toml.

Switches (environment variables):
  ENCODER_DEBUG=1     build without optimisation, with debug symbols and Cython line tracing
  ENCODER_SANITIZE=1  build with AddressSanitizer and UBSan (run with LD_PRELOAD of libasan)
  ENCODER_WERROR=1    turn C compiler warnings into errors
"""
import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

flags = ["-O3"] if not os.environ.get("ENCODER_DEBUG") else ["-O0", "-g"]
link = []
if os.environ.get("ENCODER_SANITIZE"):
    flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"]
    link += ["-fsanitize=address,undefined"]
if os.environ.get("ENCODER_WERROR"):
    flags += ["-Werror"]

extensions = [
    Extension(
        f"encoder.{pyx.stem}",
        [str(pyx)],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
        extra_compile_args=flags,
        extra_link_args=link,
    )
    for pyx in sorted(Path("ext").glob("_*.pyx"))
]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": 3,
                                                                "embedsignature": True}))
