"""Deprecated: the shard files of a dataset are :mod:`encoder.loader.shard_files` now.

"Sources" are the capture inputs (:mod:`encoder.capture.sources`). The names this module
had are served from their new homes with a :class:`DeprecationWarning`.
"""
from __future__ import annotations

import warnings

from .. import errors
from . import shard_files

_MOVED = {"ReaderPool": shard_files, "SHARD_SUFFIX": shard_files, "expand": shard_files, "is_url": shard_files,
          "open_shard": shard_files, "ShardUnavailableError": errors}


def __getattr__(name: str):
    home = _MOVED.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"encoder.loader.sources is deprecated; use {home.__name__}.{name}", DeprecationWarning,
                  stacklevel=2)
    return getattr(home, name)
