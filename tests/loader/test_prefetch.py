"""encoder.loader.prefetch: bounded read-ahead on a thread."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import encoder
from encoder.loader.prefetch import Prefetcher


def test_prefetch_stays_within_its_budget():
    item = {"a": np.zeros(1000, np.uint8)}
    items = ((i, dict(item)) for i in range(50))
    pf = Prefetcher(items, budget=3500)
    got = []
    for position, _ in pf:
        got.append(position)
        threading.Event().wait(0.001)
    pf.close()
    assert got == list(range(50)) and pf.peak <= 3500

    def failing():
        yield 1, dict(item)
        raise encoder.CorruptShardError("boom", shard="x.enc")

    pf = Prefetcher(failing(), budget=1 << 20)
    assert next(pf)[0] == 1
    with pytest.raises(encoder.CorruptShardError, match="x.enc"):
        next(pf)
    pf.close()


def test_source_is_a_deprecated_name_of_items():
    with pytest.warns(DeprecationWarning, match="items="):
        pf = Prefetcher(source=iter([(1, {"a": np.zeros(3)})]), budget=100)
    assert [position for position, _ in pf] == [1]
    with pytest.warns(DeprecationWarning, match="items"):
        assert pf.source is pf.items
    pf.close()
