"""The rules that turn raw input into actions: every threshold in one versioned dataclass.

The same streams and the same :class:`Rules` always give the same actions (docs/actions.md
states each rule). Thresholds are in microseconds and pixels; the double-click settings are
the platform's where the recording stored them (:meth:`Rules.for_metadata`).

>>> Rules().multi_click_us, Rules.for_metadata({"platform": {"double_click_ms": 250}}).multi_click_us
(400000, 250000)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

#: Bumped whenever a rule or a default changes what :func:`~encoder.actions.derive` returns.
RULES_VERSION = 1


@dataclass(frozen=True)
class Rules:
    """Thresholds of the reduction (defaults: GTK's double-click settings, AgentNet's drag and
    scroll rules; docs/actions.md gives the reasons)."""

    #: A press and its release are a click while the pointer stays within this many pixels
    #: (Chebyshev distance from the press point, every pointer row of the hold counted); beyond, a drag.
    click_max_px: int = 6
    #: The next press of button 1 continues a multi-click when it comes at most this long after
    #: the previous press (GTK's gtk-double-click-time default, 400 ms) ...
    multi_click_us: int = 400_000
    #: ... and at most this many pixels from it (Chebyshev; gtk-double-click-distance, 5 px).
    multi_click_px: int = 5
    #: Scroll ticks belong to one burst while each follows the previous within this gap ...
    scroll_gap_us: int = 300_000
    #: ... keeps its direction on both axes, and is at most this many pixels from the burst's first tick.
    scroll_move_px: int = 20
    #: Keys belong to one typing burst while each press follows the previous key press within this gap.
    type_gap_us: int = 2_000_000
    #: A pointer rest (no row moving it more than ``hover_radius_px`` from where it stopped) this
    #: long, ended by moving on, is a ``move`` action ...
    hover_us: int = 1_000_000
    hover_radius_px: int = 3
    #: ... when the pointer travelled at least this far (straight line) to the rest from the
    #: previous action's position or the previous rest.
    hover_travel_px: int = 20
    #: The movement that led to a pointer action starts after the last gap of at least this long
    #: between pointer rows (or at the end of the previous action, whichever is later).
    move_pause_us: int = 300_000
    #: Target width W of Fitts' index of difficulty log2(D / W + 1) when the element is unknown.
    target_width_px: int = 20

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Rules.{f.name} must be a non-negative int, not {value!r}")
        if self.target_width_px == 0:
            raise ValueError("Rules.target_width_px must be positive")

    @classmethod
    def for_metadata(cls, metadata: dict | None, **overrides) -> "Rules":
        """The default rules with the platform's double-click settings where ``metadata``
        (a shard's) stored them: ``metadata["platform"]["double_click_ms" | "double_click_px"]``."""
        platform = (metadata or {}).get("platform") or {}
        found = {}
        if isinstance(platform.get("double_click_ms"), int) and platform["double_click_ms"] > 0:
            found["multi_click_us"] = platform["double_click_ms"] * 1000
        if isinstance(platform.get("double_click_px"), int) and platform["double_click_px"] >= 0:
            found["multi_click_px"] = platform["double_click_px"]
        return cls(**{**found, **overrides})

    def to_json(self) -> dict:
        """The rules and their version, as stored beside derived actions."""
        return {"version": RULES_VERSION, **dataclasses.asdict(self)}
