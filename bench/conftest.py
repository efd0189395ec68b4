"""Shared setup of the benchmarks: one core, collection of ``bench_*.py``, the real recordings.

* Every library that could use more than one thread is pinned to one (Arrow's CPU and I/O
  pools, blosc2, Numba), so ours and the baselines are compared on one core, as the
  targets are stated.
* ``bench_*.py`` files are collected when pytest is given the folder
  (``python -m pytest bench/ --benchmark-only``); ``bench/`` stays outside ``testpaths`` so
  the benchmarks never run with the tests by accident.
* The recordings in ``../shared/data`` are loaded once per session; benchmarks that need
  them skip when they are absent.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # before anything imports numba

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `from bench import baselines` however pytest was started
    sys.path.insert(0, str(ROOT))


def pin_threads() -> None:
    """One thread everywhere (also called by ``python -m bench.bench_events``)."""
    import blosc2
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    blosc2.set_nthreads(1)


def pytest_configure(config):
    pin_threads()


def pytest_collect_file(file_path, parent):
    # Files named on the command line are collected by pytest itself; only add the
    # bench_*.py files that pytest finds while walking the folder.
    if file_path.suffix == ".py" and file_path.name.startswith("bench_") \
            and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def event_datasets() -> dict:
    """``{"balabit-mouse": {stream: pa.Table}, "aalto-keys": {...}}``: the recordings found."""
    import pyarrow as pa

    from encoder.testing import recordings
    from encoder.streams import STREAMS

    root = recordings.shared_data_dir()
    if root is None:
        pytest.skip("shared recordings not found (../shared/data or $ENCODER_SHARED_DATA)")
    loaded = {}
    if (root / recordings.BALABIT).is_dir():
        loaded["balabit-mouse"] = recordings.load_balabit(root)
    if (root / recordings.AALTO).is_dir():
        loaded["aalto-keys"] = recordings.load_aalto(root)
    return {name: {stream: pa.table(columns, schema=STREAMS[stream].arrow_schema)
                   for stream, columns in streams.items()}
            for name, streams in loaded.items()}
