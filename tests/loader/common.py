"""Helpers shared by the loader tests (fixtures are in conftest.py beside this file)."""
from __future__ import annotations

import numpy as np
import pytest

import encoder
from encoder.testing.synthetic import generate_session, session_metadata, to_tables, write_sample

HAVE_FRAMES = hasattr(encoder.ShardWriter, "add_frame")
needs_frames = pytest.mark.skipif(not HAVE_FRAMES, reason="ShardWriter.add_frame (issue 3) is not in this tree")

FRAME_H, FRAME_W = 40, 56


def write_frames_shard(path, *, seconds=12, seed=7, frames=40, fps=10, height=FRAME_H, width=FRAME_W):
    """A session with events and synthetic frames: a few pixels change per frame."""
    session = generate_session(seconds, seed)
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    t0 = int(session["pointer"]["t"].min())
    with encoder.ShardWriter(path, metadata=session_metadata(seconds, seed), background=False) as w:
        for name, table in to_tables(session).items():
            w.write(name, table)
        for k in range(frames):
            for _ in range(3):
                image[rng.integers(0, height), rng.integers(0, width)] = rng.integers(0, 256, 4)
            w.add_frame(t0 + k * (1_000_000 // fps), image)
    return path


def ident(sample) -> tuple:
    """What identifies a sample: its shard and anchor time."""
    return sample["shard"], int(sample["t_us"])


def same_sample(a: dict, b: dict) -> None:
    """``a`` and ``b`` hold the same fields with equal values (arrays: dtype and contents)."""
    assert set(a) == set(b)
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
        else:
            assert a[k] == b[k], k


def write_sessions(folder, lengths, *, first_seed: int, prefix: str) -> list[str]:
    """Synthetic event-only shards ``{prefix}{i}.enc`` of ``lengths`` seconds, seeds from ``first_seed``."""
    paths = []
    for i, seconds in enumerate(lengths):
        path = str(folder / f"{prefix}{i}.enc")
        write_sample(path, seconds=seconds, seed=first_seed + i)
        paths.append(path)
    return paths
