"""``encoder view PATH -o page.html`` and ``--serve``."""
from __future__ import annotations

import urllib.request

import pytest
from view.browser_helpers import write_view_shard

from encoder.cli import main, view
from encoder.cli.demo import DEMO_SESSION_PATH
from encoder.view.page import config_of


@pytest.fixture(scope="module")
def view_shard(tmp_path_factory) -> str:
    return write_view_shard(tmp_path_factory.mktemp("view-cli") / "small.enc")


def test_page_of_the_demo_says_what_it_left_out(tmp_path, capsys):
    out = tmp_path / "demo.html"
    assert main(["view", DEMO_SESSION_PATH, "-o", str(out), "--max-frames", "4", "--scale", "0.25", "--image",
                 "png"]) == 0
    printed = capsys.readouterr().out
    config = config_of(out.read_text(encoding="utf-8"))
    kept = len(config["embedded"])
    assert 4 <= kept < 300 and f"{kept:,} of 300 frames embedded (png, lossless" in printed
    assert f"left out {300 - kept:,} frames" in printed and config["scale"] == 0.25


def test_all_frames(tmp_path, capsys, view_shard):
    out = tmp_path / "all.html"
    assert main(["view", view_shard, "-o", str(out), "--all-frames", "--image", "jpeg"]) == 0
    printed = capsys.readouterr().out
    assert "14 of 14 frames embedded (jpeg, lossy" in printed and "left out" not in printed
    assert config_of(out.read_text(encoding="utf-8"))["embedded"] == list(range(14))


def test_serve_until_interrupted(view_shard, monkeypatch, capsys):
    fetched = {}

    def visit():
        url = capsys.readouterr().out.split(" at ")[1].split(" ")[0]
        fetched["page"] = urllib.request.urlopen(url, timeout=30).read()
        fetched["frame"] = urllib.request.urlopen(url + "frame/0.webp", timeout=30).read()
        raise KeyboardInterrupt

    monkeypatch.setattr(view, "wait_for_interrupt", visit)
    assert main(["view", view_shard, "--serve", "--port", "0", "--image", "webp"]) == 0
    assert b'"mode":"served"' in fetched["page"] and fetched["frame"][8:12] == b"WEBP"


@pytest.mark.parametrize("argv, message", [
    (["view", "X"], "one of the arguments -o/--output --serve is required"),
    (["view", "X", "-o", "a.html", "--serve"], "not allowed with"),
])
def test_usage_errors(argv, message, capsys):
    assert main(argv) == 2 and message in capsys.readouterr().err


def test_missing_file(tmp_path, capsys):
    assert main(["view", str(tmp_path / "none.enc"), "-o", str(tmp_path / "p.html")]) == 2
    assert "encoder: error:" in capsys.readouterr().err
