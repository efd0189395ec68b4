"""The ``encoder`` command line: ``demo``, ``inspect``, ``verify``, ``repair``, ``export``, ``record``.

One module per command (each has ``register(subparsers, common)`` and ``run(args)``);
:mod:`encoder.cli.main` parses arguments and maps errors to exit codes. The console
script ``encoder`` and ``python -m encoder`` both call :func:`main`.

>>> from encoder.cli import main
>>> main(["--version"])  # doctest: +ELLIPSIS
encoder ... (backend: ...)
0
"""
from .main import build_parser, main

__all__ = ["build_parser", "main"]
