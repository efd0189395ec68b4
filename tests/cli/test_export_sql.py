"""SQL and data frames over ``encoder export --parquet``: DuckDB joins streams by time, polars reads them."""
from __future__ import annotations

import numpy as np
import pytest

import encoder
from encoder.cli import main

T0_US, UNIX_US_AT_T0 = 5_000_000, 1_714_564_800_000_000  # t = T0_US is 2024-05-01 12:00:00 UTC
HOUR = 3_600_000_000


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A session of known clicks (editor, then browser, then editor) and commands over 3 hours, exported."""
    folder = tmp_path_factory.mktemp("sql")
    path = str(folder / "desk.enc")
    metadata = {"clock": {"source": "monotonic", "t0_us": T0_US, "unix_us_at_t0": UNIX_US_AT_T0},
                "session": {"id": "desk", "part": 0}}
    focus_t = T0_US + np.array([0, HOUR, 2 * HOUR], np.int64)
    apps = ["editor", "browser", "editor"]
    # clicks: 3 in the first hour (editor), 5 in the second (browser), 4 in the third (editor)
    clicks = np.concatenate([T0_US + h * HOUR + 1_000_000 * (1 + np.arange(n)) for h, n in enumerate((3, 5, 4))])
    t = np.sort(np.concatenate([clicks, clicks + 80_000]))
    pressed = np.isin(t, clicks)
    command_t = T0_US + np.array([10, 20, 30, 3_605, 7_201, 7_202], np.int64) * 1_000_000  # seconds
    with encoder.ShardWriter(path, metadata=metadata) as w:
        w.write("focus", {"t": focus_t, "app": apps, "title": [f"{a} window" for a in apps],
                          "window": np.array([1, 2, 1], np.int64), "x": np.zeros(3, np.int32),
                          "y": np.zeros(3, np.int32), "width": np.full(3, 800, np.int32),
                          "height": np.full(3, 600, np.int32)})
        w.write("button", {"t": t, "button": np.ones(len(t), np.uint8), "pressed": pressed,
                           "x": np.zeros(len(t), np.int32), "y": np.zeros(len(t), np.int32)})
        w.write("command", {"t": command_t, "kind": ["shell"] * 6, "text": ["ls", "make", "ls", "git status",
                                                                             "make", "ls"]})
    out = folder / "parquet"
    assert main(["export", path, "--parquet", str(out), "-q"]) == 0
    return out


CLICKS_PER_APP = """
    -- each button press takes the app of the last focus change at or before it (ASOF join)
    SELECT f.app, count(*) AS clicks
    FROM read_parquet('{out}/stream=button/*.parquet') b
    ASOF JOIN read_parquet('{out}/stream=focus/*.parquet') f
      ON b.session = f.session AND b.t >= f.t
    WHERE b.pressed
    GROUP BY f.app ORDER BY clicks DESC, f.app
"""

COMMANDS_PER_HOUR = """
    SELECT date_trunc('hour', time) AS hour, count(*) AS commands
    FROM read_parquet('{out}/stream=command/*.parquet')
    GROUP BY hour ORDER BY hour
"""


def test_duckdb_counts_clicks_per_app_with_an_asof_join(export):
    duckdb = pytest.importorskip("duckdb")
    assert duckdb.sql(CLICKS_PER_APP.format(out=export)).fetchall() == [("editor", 7), ("browser", 5)]


def test_duckdb_counts_commands_per_hour(export):
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(COMMANDS_PER_HOUR.format(out=export)).fetchall()
    assert [(h.isoformat(), n) for h, n in rows] == [
        ("2024-05-01T12:00:00+00:00", 3), ("2024-05-01T13:00:00+00:00", 1), ("2024-05-01T14:00:00+00:00", 2)]


def test_polars_reads_the_same_clicks(export):
    polars = pytest.importorskip("polars")
    button = polars.read_parquet(f"{export}/stream=button/*.parquet").filter(polars.col("pressed")).sort("t")
    focus = polars.read_parquet(f"{export}/stream=focus/*.parquet").sort("t")
    joined = button.join_asof(focus.select("t", "app"), on="t", strategy="backward")
    counts = dict(joined.group_by("app").len().iter_rows())
    assert counts == {"editor": 7, "browser": 5}
    assert button.schema["time"] == polars.Datetime("us", "UTC")
