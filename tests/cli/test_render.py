"""``encoder render PATH --mp4/--gif/--contact-sheet``."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from encoder.cli import main
from encoder.cli.demo import DEMO_SESSION_PATH


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="the ffmpeg programs are not installed")
def test_mp4_of_the_demo(tmp_path, capsys):
    out = tmp_path / "demo.mp4"
    assert main(["render", DEMO_SESSION_PATH, "--mp4", str(out), "--from", "10", "--to", "12", "--fps", "5",
                 "--scale", "0.25"]) == 0
    assert "10 frames at 5 fps (2.0 s, 480x270)" in capsys.readouterr().out
    info = json.loads(subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                                      "stream=nb_read_frames", "-of", "json", str(out)],
                                     capture_output=True, text=True, check=True).stdout)
    assert info["streams"][0]["nb_read_frames"] == "10"


def test_contact_sheet_every(tmp_path, capsys):
    pytest.importorskip("PIL")
    out = tmp_path / "sheet.png"
    assert main(["render", DEMO_SESSION_PATH, "--contact-sheet", str(out), "--every", "20", "--width", "96"]) == 0
    assert "4 frames in 2 x 2" in capsys.readouterr().out and out.stat().st_size > 0


@pytest.mark.parametrize("extra, message", [
    ([], "nothing to write"),
    (["--contact-sheet", "x.png"], "needs --times"),
    (["--mp4", "x.mp4", "--from", "5", "--to", "1"], "not after"),
])
def test_errors(extra, message, capsys):
    assert main(["render", DEMO_SESSION_PATH, *extra]) == 2 and message in capsys.readouterr().err


def test_bad_times(capsys):
    assert main(["render", DEMO_SESSION_PATH, "--contact-sheet", "x.png", "--times", "1,a"]) == 2
    assert "comma-separated" in capsys.readouterr().err
