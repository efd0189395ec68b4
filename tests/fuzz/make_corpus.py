"""Write the seed corpus of the fuzz targets: small real shards of every kind, from code.

    python tests/fuzz/make_corpus.py DIR

(No binaries are committed: the corpus is regenerated from tests/fuzz/shards.py, ~50 KB.)
"""
from __future__ import annotations

import os
import sys

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz import mutate, shards  # noqa: E402


def corpus() -> dict[str, bytes]:
    """name -> bytes: every seed shard, plus a few shapes a reader must also meet."""
    out = dict(shards.seeds())
    events = out["events"]
    out["truncated"] = events[: len(events) // 2]
    out["tiny-unclosed"] = shards._write({"pointer": {"t": [0, 1], "x": [0, 1], "y": [1, 0]}},
                                         close=False, encryption_key=False)
    layout = mutate.Layout(out["tiny"])
    out["tiny-empty-index"] = mutate.reseal_footer(out["tiny"], layout, {"streams": {}, "blocks": []})
    return out


def main(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    total = 0
    for name, data in corpus().items():
        with open(os.path.join(folder, f"{name}.enc"), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"{len(corpus())} seeds, {total} bytes in {folder}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz-corpus")
