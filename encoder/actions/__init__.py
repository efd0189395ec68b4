"""Actions: the steps agents are trained on, derived deterministically from the raw streams.

:func:`derive` reduces a recording's pointer, button, scroll, key, focus and command rows to
clicks, drags, scrolls, typed text, keys, hotkeys, window switches, commands and hovers, each
with its observation frame and the timing around it (docs/actions.md states every rule;
:class:`Rules` holds every threshold). The derivation runs as Numba kernels
(:mod:`~encoder.actions._numba`) or as the event-at-a-time reference
(:mod:`~encoder.actions.reference`), picked by ``ENCODER_BACKEND``; both give the same table.
"""
from __future__ import annotations

from .. import backends
from .rules import RULES_VERSION, Rules
from .schema import KINDS, SCHEMA


def _native_set() -> dict:
    from . import native
    return {"derive_inputs": native.derive_inputs}


def _reference_set() -> dict:
    from . import reference
    return {"derive_inputs": reference.derive_inputs}


def _warmup() -> None:
    from . import native
    native.derive_inputs_warm()


backends.declare("actions", native=_native_set, reference=_reference_set, warmup=_warmup)

from .derive import derive  # noqa: E402  (after the kernels are declared)
from .tokens import ActionTokenizer  # noqa: E402
from .trajectory import export_trajectory  # noqa: E402

__all__ = ["ActionTokenizer", "KINDS", "RULES_VERSION", "Rules", "SCHEMA", "derive", "export_trajectory"]
