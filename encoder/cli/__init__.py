"""The ``encoder`` command line: ``demo``, ``inspect``, ``verify``, ``export``.

One module per command (each has ``register(subparsers, common)`` and ``run(args)``);
:mod:`encoder.cli.main` parses arguments and maps errors to exit codes. The console
script ``encoder`` and ``python -m encoder`` both call :func:`main`.

>>> from encoder.cli import main
>>> main(["--version"])  # doctest: +SKIP
encoder 0.1.0 (backend: native)
0
"""
from .main import build_parser, main

__all__ = ["build_parser", "main"]
