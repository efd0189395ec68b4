"""Fixtures of the loader tests: shards written once per module."""
from __future__ import annotations

import pytest

from loader.common import HAVE_FRAMES, write_frames_shard, write_sessions


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Three event-only shards of different lengths."""
    return write_sessions(tmp_path_factory.mktemp("shards"), (12, 8, 15), first_seed=1, prefix="s")


@pytest.fixture(scope="module")
def frame_shard(tmp_path_factory):
    """A shard with 40 frames of 40 x 56 BGRA and the events of a 12 s session."""
    if not HAVE_FRAMES:
        pytest.skip("ShardWriter.add_frame (issue 3) is not in this tree")
    return write_frames_shard(str(tmp_path_factory.mktemp("frames") / "f.enc"))
