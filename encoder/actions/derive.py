"""``derive``: the actions of a recording, as a ``pyarrow.Table`` of :data:`~encoder.actions.SCHEMA`."""
from __future__ import annotations

import pyarrow as pa

from .. import backends
from .context import attach
from .inputs import gather
from .rules import Rules


def derive(source, *, screen: int = 0, rules: Rules | None = None, backend: str | None = None) -> pa.Table:
    """The actions of ``source`` (a :class:`~encoder.ShardReader`, a path, or a dict of stream
    name -> table or dict of arrays), in time order, with the observation frame of ``screen``.

    ``rules`` default to :meth:`Rules.for_metadata` of the shard (the platform's double-click
    settings where it stored them); ``backend`` ("native" or "reference") overrides
    ``ENCODER_BACKEND`` for this call. The same input and rules always give the same table.
    """
    inputs = gather(source, screen)
    if rules is None:
        rules = Rules.for_metadata(inputs.metadata)
    elif not isinstance(rules, Rules):
        raise TypeError(f"rules must be an encoder.actions.Rules, not {type(rules).__name__}")
    return attach(backends.kernels("actions", backend).derive_inputs(inputs, rules), inputs)
