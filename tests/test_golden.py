"""Golden shards of every format version ever released decode to the same session."""
import pathlib
import sys

import pytest

import encoder
from common import assert_golden

sys.path.insert(0, str(pathlib.Path(__file__).parent / "golden"))
from make_golden import METADATA, expected  # noqa: E402

GOLDEN = sorted((pathlib.Path(__file__).parent / "golden").glob("v*.enc"))


def test_there_is_a_golden_shard_of_the_current_version():
    major, minor = encoder.shard.format.VERSION
    assert any(p.name.startswith(f"v{major}.{minor}-") for p in GOLDEN)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_shard_decodes_exactly(path):
    with encoder.ShardReader(path) as r:
        assert_golden(r, METADATA, expected(r.version))
