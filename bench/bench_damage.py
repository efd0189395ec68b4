"""How much one damaged tile page costs: every page of the bundled demo session in turn.

For each tile page: flip a byte in it, ``repair`` (the result must ``verify``), count the
frames that need tiles of the dropped page (``lost_frames``), and check that every other
frame is bit-exact and every lost one raises ``CorruptShardError``. Prints the frames lost
per damaged page (mean, median, max) beside the shard's frame count; before lost pages
were handled, any damaged page cost every frame of the shard.

    python bench/bench_damage.py [SHARD]
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import encoder
from encoder.shard.repair import repair

DEMO = Path(encoder.__file__).parent / "data" / "demo_session.enc"


def main(argv=None) -> int:
    source = Path((argv or sys.argv[1:] or [DEMO])[0])
    data = source.read_bytes()
    with encoder.ShardReader(source) as reader:
        pages = [b for b in reader.blocks if b.stream == "tile"]
        count = reader.frame_count()
        frames = [reader.frame(i) for i in range(count)]
    lost_per_page, exact = [], True
    with tempfile.TemporaryDirectory() as folder:
        bad, fixed = os.path.join(folder, "bad.enc"), os.path.join(folder, "fixed.enc")
        for page in pages:
            damaged = bytearray(data)
            damaged[page.offset + page.stored_bytes // 2] ^= 0xFF
            Path(bad).write_bytes(bytes(damaged))
            repair(bad, fixed)
            with encoder.ShardReader(fixed) as reader:
                reader.verify()
                lost = set(reader.lost_frames().tolist())
                lost_per_page.append(len(lost))
                for i in range(count):
                    if i not in lost:
                        exact &= bool(np.array_equal(reader.frame(i), frames[i]))
                        continue
                    try:
                        reader.frame(i)
                        exact = False
                    except encoder.CorruptShardError:
                        pass
    print(f"{source.name}: {len(pages)} tile pages, {count} frames")
    print(f"frames lost per damaged page: mean {np.mean(lost_per_page):.1f}, median {np.median(lost_per_page):.0f}, "
          f"max {max(lost_per_page)} (of {count}); every other frame exact, every lost one raises: {exact}")
    print("per page, in file order:", lost_per_page)
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
