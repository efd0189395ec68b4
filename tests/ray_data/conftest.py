"""Fixtures of the Ray tests: a local Ray of 2 CPUs (one per session) and shards of several blocks."""
from __future__ import annotations

import os
import warnings

import pytest

from encoder.shard import ShardWriter
from encoder.testing.synthetic import generate_session, session_metadata, to_tables

#: What Ray warns about on its own (deprecated settings when its data context is made, its own
#: use of deprecated APIs): (message, category, module) filters, precisely these, none of ours.
RAY_WARNINGS = ((r".*deprecated.*", DeprecationWarning, r"ray\..*"),
                (r".*", DeprecationWarning, r"google\..*"))
HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    """The tests of this folder ignore these warnings (and only these), as ``filterwarnings`` marks."""
    for item in items:
        if str(item.path).startswith(HERE + os.sep):
            for message, category, module in RAY_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(f"ignore:{message}:{category.__name__}:{module}"))

def write_blocks_shard(path, seconds: float, seed: int, block_rows: int = 100) -> str:
    """A synthetic session whose streams have several blocks each."""
    session = generate_session(seconds, seed)
    with ShardWriter(path, metadata=session_metadata(seconds, seed), flush_seconds=None, background=False,
                     block_rows=block_rows) as writer:
        for name, table in to_tables(session).items():
            writer.write(name, table)
    return str(path)


@pytest.fixture(scope="session")
def local_ray():
    """``ray`` with a local cluster of 2 CPUs; Datasets keep their blocks' order."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    with warnings.catch_warnings():
        for message, category, module in RAY_WARNINGS:
            warnings.filterwarnings("ignore", message, category, module)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def event_shards(tmp_path_factory) -> list[str]:
    """Three shards of 20, 8 and 30 s, blocks of 100 rows."""
    folder = tmp_path_factory.mktemp("ray-shards")
    return [write_blocks_shard(folder / f"r{i}.enc", seconds, seed=10 + i)
            for i, seconds in enumerate((20, 8, 30))]
