"""encoder.review.stats and the page: the figures of a known session, and a page that parses,
holds its plots and fetches nothing."""
from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest

import encoder
from encoder.review import session_stats, stats_page
from encoder.review.ranges import parse_range, parse_rect
from encoder.review.stats import hesitation_bins, stats_tables

from review.sessions import T0, write_session

DEMO = "encoder/data/demo_session.enc"


class Page(HTMLParser):
    """Tags, attributes and text of a page; fails on anything that would be fetched."""

    def __init__(self, text: str):
        super().__init__()
        self.tags, self.text, self.open = [], [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        assert tag not in ("script", "img", "link", "iframe", "object", "embed"), tag
        for name in ("src", "href", "xlink:href"):
            assert name not in attrs or attrs[name].startswith("#"), (tag, attrs)

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> str:
    return write_session(tmp_path_factory.mktemp("stats") / "in.enc")


def test_figures_of_a_known_session(session):
    s = session_stats(session)
    assert s["origin_us"] == T0 and s["duration_s"] == pytest.approx(9.9)
    assert s["events_per_minute"]["streams"]["pointer"] == [100]
    assert s["events_per_minute"]["streams"]["key"] == [7]
    assert "tile" not in s["events_per_minute"]["streams"] and "frame" not in s["events_per_minute"]["streams"]
    assert [(a["app"], a["seconds"], a["switches"]) for a in s["apps"]] == \
        [("xterm", 4.5, 1), ("firefox", 2.9, 1), ("keepass", 2.5, 1)]
    with encoder.ShardReader(session) as r:
        stored = {b.stream: 0 for b in r.blocks}
        for b in r.blocks:
            stored[b.stream] += b.stored_bytes
    assert {b["stream"]: b["stored"] for b in s["bytes"]} == {**stored, "scroll": 0}
    actions = encoder.actions.derive(session)
    assert sum(s["actions"].values()) == actions.num_rows == sum(s["hesitation"]["counts"])
    assert s["frames"] == {0: 20, 1: 4}


def test_hesitation_bins():
    assert hesitation_bins()[:3] == ["< 1 ms", "1-2 ms", "2-5 ms"]
    assert hesitation_bins()[-1] == ">= 100 s" and len(hesitation_bins()) == 17
    from encoder.review.stats import _hesitation
    h = _hesitation(np.array([0, 999, 1000, 1999, 2000, 150_000_000, 100_000_000]))
    assert h["counts"][:3] == [2, 2, 1] and h["counts"][-1] == 2


def test_page_of_the_demo_session():
    s = session_stats(DEMO)
    page = stats_page(s, encoder.ShardReader(DEMO).metadata)
    parsed = Page(page)
    assert parsed.tags.count("svg") == 5 and "rect" in parsed.tags and "script" not in parsed.tags
    text = " ".join(parsed.text)
    for figure in ("784,626", "Chromium", "XTerm", "52.0", "scroll", "1.462 s", "2026-12-06 13:30:12 UTC"):
        assert figure in text, figure
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    for t in stats_tables(s):  # every table's cells are on the page
        assert all(cell in text for row in t["rows"] for cell in row)


def test_page_escapes_names(tmp_path):
    path = str(tmp_path / "x.enc")
    with encoder.ShardWriter(path) as w:
        w.write("focus", {"t": [0, 5], "app": ["<script>alert(1)</script>", "a&b"], "title": [None, None],
                          "window": [1, 2], "x": [0, 0], "y": [0, 0], "width": [1, 1], "height": [1, 1]})
    page = stats_page(session_stats(path))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    Page(page)


def test_ranges_parse():
    assert parse_range("1:30-2:00.5").as_json() == [90.0, 120.5]
    assert parse_range("-8").as_json() == [None, 8.0]
    assert parse_rect("1,2,3,4@-5").during.as_json() == [None, 5.0]
    for bad in ("", "-", "5-5", "7-3", "a-b", "1:75-", "1,2"):
        with pytest.raises(encoder.EncoderError):
            parse_range(bad)
    for bad in ("1,2,3", "1,2,0,4", "-1,2,3,4", "1,2,3,4@9-1"):
        with pytest.raises(encoder.EncoderError):
            parse_rect(bad)
