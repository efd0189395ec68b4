"""``encoder stats``: the tables, the page (--html), and its refusals."""
from __future__ import annotations

import json
from html.parser import HTMLParser

from encoder.cli import exit_codes
from encoder.cli.main import main

from review.sessions import sha256, write_session


def test_tables(tmp_path, capsys):
    src = write_session(tmp_path / "in.enc")
    assert main(["stats", src]) == exit_codes.OK
    printed = capsys.readouterr().out
    for title in ("Bytes by stream", "Apps in focus", "Events per minute", "Hesitation", "Actions by kind"):
        assert title in printed
    assert "xterm" in printed and "keepass" in printed and "4.5" in printed


def test_html_and_json(tmp_path, capsys):
    src = write_session(tmp_path / "in.enc")
    before = sha256(src)
    page = tmp_path / "stats.html"
    assert main(["stats", src, "--html", str(page), "--json"]) == exit_codes.OK
    printed = capsys.readouterr().out
    assert f"wrote {page}" in printed
    figures = json.loads(printed[printed.index("{"):])
    assert figures["events_per_minute"]["streams"]["pointer"] == [100]
    text = page.read_text()
    parser = HTMLParser()
    parser.feed(text)
    assert text.count("<svg") == 5 and "<script" not in text and "xterm" in text
    assert main(["stats", src, "--html", str(page)]) == exit_codes.BAD_INPUT
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert main(["stats", src, "--html", str(page), "--overwrite"]) == exit_codes.OK
    assert sha256(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.enc", "stats.html"]


def test_not_a_shard(tmp_path, capsys):
    path = tmp_path / "x.enc"
    path.write_text("hello")
    assert main(["stats", str(path)]) == exit_codes.BAD_INPUT
    assert "encoder: error:" in capsys.readouterr().err
