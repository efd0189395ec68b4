"""``encoder record`` that cannot start leaves nothing behind; its help and its stats line
(:mod:`encoder.cli.record`). Recording itself runs against Xvfb in tests/capture/sources."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from encoder.cli import main
from encoder.cli.record import _format_stats

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _free_display() -> str:
    """A display number no X server listens on."""
    for number in range(300, 400):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(f"/tmp/.X{number}-lock"):
            return f":{number}"
    pytest.skip("no free X display number")


def _xlib_installed() -> bool:
    try:
        import Xlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_no_display_leaves_no_folder(tmp_path):
    out = tmp_path / "new" / "out"
    env = dict(os.environ, DISPLAY=_free_display(),
               PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "encoder", "record", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("encoder: error: ") and "Traceback" not in proc.stderr
    if _xlib_installed():
        assert "cannot open X display" in proc.stderr
    assert os.listdir(tmp_path) == []          # neither out nor the parent it had to create


def test_no_display_keeps_folders_that_existed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", _free_display())
    empty, used = tmp_path / "empty", tmp_path / "used"
    empty.mkdir()
    used.mkdir()
    (used / "session-0000.enc").write_bytes(b"an earlier recording")
    for out in (empty, used):
        assert main(["record", "--out", str(out)]) == 2
    assert os.listdir(empty) == [] and os.listdir(used) == ["session-0000.enc"]
    assert (used / "session-0000.enc").read_bytes() == b"an earlier recording"


@pytest.mark.parametrize("policy", ["missing.toml", "bad.json"])
def test_a_bad_policy_leaves_no_folder(tmp_path, policy, capsys):
    (tmp_path / "bad.json").write_text('{"keys": "everything"}')
    out = tmp_path / "out"
    assert main(["record", "--out", str(out), "--policy", str(tmp_path / policy), "--display", ":0"]) == 2
    assert "encoder: error:" in capsys.readouterr().err
    assert not out.exists()


def test_help_says_what_keys_does_not_hide(capsys):
    assert main(["record", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "timing-only = press/release times and key classes, no text" in text
    assert "screen frames still show whatever the typing displays" in text
    assert "pip install 'hci-encoder[capture]'" in text and "pip install '.[capture]'" in text


def test_the_stats_line_shows_the_rate():
    stats = {"elapsed_s": 3.0, "dropped_total": 0, "rss_mb": 90.0,
             "rates": {"events_per_s": 2.0, "frames_per_s": 2.0, "cpu_percent": 1.0, "bytes_per_min": 12_345}}
    assert "  0.012 MB/min" in _format_stats(stats, False)
    assert _format_stats(stats, True).endswith("(paused)")
