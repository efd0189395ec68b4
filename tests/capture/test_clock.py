"""The session clock and the mapping of X server timestamps onto it."""
from __future__ import annotations

from encoder.capture import clock


def test_server_clock_maps_and_bounds():
    c = clock.ServerClock()
    c.calibrate(1_000, before_us=50_000_300, after_us=50_000_700)
    assert c.to_us(1_000, received_us=60_000_000) == 50_000_300
    assert c.to_us(1_250, received_us=60_000_000) == 50_250_300
    # an event can not be mapped after its arrival: the offset is lowered
    assert c.to_us(2_000, received_us=50_900_000) == 50_900_000
    assert c.corrections == 1
    assert c.to_us(1_000, received_us=60_000_000) == 49_900_000


def test_server_clock_wraps():
    c = clock.ServerClock()
    top = (1 << 32) - 10
    assert c.to_us(top, received_us=10_000_000) == 10_000_000
    assert c.to_us(5, received_us=10_015_000) == 10_015_000          # across the wrap
    assert c.to_us(top + 2, received_us=10_020_000) == 10_002_000    # a late event from before it
    assert c.to_us(20, received_us=10_100_000) == 10_030_000


def test_anchor():
    a = clock.anchor()
    assert a["source"] == "CLOCK_MONOTONIC" and abs(a["t0_us"] - clock.now_us()) < 1_000_000
