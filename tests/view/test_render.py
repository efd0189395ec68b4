"""``encoder.view.render``: videos at true timing with the pointer drawn, and contact sheets."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

import encoder
from encoder.errors import EncoderError
from encoder.view import contact_sheet, render_video
from encoder.view.cursor import Cursor
from encoder.view.render import composed_frames, frame_indices, output_times

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
                                  reason="the ffmpeg program is not installed")


def probe(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                          "stream=nb_read_frames,width,height,r_frame_rate:format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    info = json.loads(out)
    return {**info["streams"][0], "duration": float(info["format"]["duration"])}


def decoded_frames(path, width, height) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True, timeout=120).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def test_output_frames_follow_true_timing():
    assert output_times(10, 1_000_010, 5).tolist() == [10, 200_010, 400_010, 600_010, 800_010]
    frames = np.array([0, 100, 450])
    assert frame_indices(frames, np.array([-5, 0, 99, 100, 449, 450, 9999])).tolist() == [0, 0, 0, 1, 1, 2, 2]


def test_composed_frames_repeat_and_skip(view_shard, browser):
    with encoder.ShardReader(view_shard) as reader:
        times = browser.T0 + np.array([0, 100_000, 1_050_000, 1_060_000, 8_900_000])
        out = list(composed_frames(reader, times))
        for image, index in zip(out, [0, 0, 3, 3, 12]):
            assert np.array_equal(image, browser.frame_image(index)[..., [2, 1, 0]])
        cursor = Cursor.of(reader)
        drawn = list(composed_frames(reader, times[:1], cursor=cursor))[0]
    x, y = cursor.position(int(times[0]))
    assert (x, y) == (20, 10) and drawn[y + 6, x + 2].tolist() == [255, 255, 255]


@needs_ffmpeg
def test_mp4_decodes_with_the_frame_count_and_cursor(view_shard, browser, tmp_path):
    out = tmp_path / "v.mp4"
    with encoder.ShardReader(view_shard) as reader:
        report = render_video(reader, out, fps=10, start_s=1, end_s=5)
    info = probe(out)
    assert report["frames"] == 40 and int(info["nb_read_frames"]) == 40
    assert info["r_frame_rate"] == "10/1" and abs(info["duration"] - 4.0) < 0.01
    assert (info["width"], info["height"]) == (browser.W, browser.H) == (report["width"], report["height"])
    frames = decoded_frames(out, browser.W, browser.H)
    for k in (0, 13, 27):  # output frame k is at 1 s + k/10 s: pointer row 20 + 2k
        row = 20 + 2 * k
        x, y = 20 + row * 3 % 120, 10 + row % 70
        arrow = frames[k, y + 7:y + 11, x + 1:x + 4].astype(int)
        assert arrow.mean() > 200, (k, arrow.mean())  # the white arrow, through H.264's losses


@needs_ffmpeg
def test_gif_and_scale(view_shard, tmp_path):
    out = tmp_path / "v.gif"
    with encoder.ShardReader(view_shard) as reader:
        report = render_video(reader, out, kind="gif", fps=5, start_s=0, end_s=2, scale=0.5)
    info = probe(out)
    assert int(info["nb_read_frames"]) == report["frames"] == 10 and (info["width"], info["height"]) == (80, 48)


def test_contact_sheet_grid(view_shard, browser, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    out = tmp_path / "sheet.png"
    with encoder.ShardReader(view_shard) as reader:
        report = contact_sheet(reader, out, [1, 5, 7.6], width=80, cursor=False)
    assert report["columns"] == 2 and report["rows"] == 2 and report["cell"] == (80, 48)
    assert report["frames"] == [3, 8, 10]
    sheet = np.asarray(Image.open(out).convert("RGB"))
    assert sheet.shape == (2 * (48 + 18 + 4) + 4, 2 * (80 + 4) + 4, 3) and report["size"] == sheet.shape[1::-1]
    cell = sheet[4:4 + 48, 4:4 + 80].astype(int)
    expected = np.asarray(Image.fromarray(browser.frame_image(3)[..., [2, 1, 0]]).resize((80, 48), Image.BOX))
    assert np.abs(cell - expected).max() <= 1


def test_errors(view_shard, tmp_path):
    with encoder.ShardReader(view_shard) as reader:
        with pytest.raises(EncoderError, match="not after"):
            render_video(reader, tmp_path / "x.mp4", start_s=5, end_s=2)
        with pytest.raises(EncoderError, match="no frames of screen 3"):
            render_video(reader, tmp_path / "x.mp4", screen=3)
        with pytest.raises(EncoderError, match="unknown video kind"):
            render_video(reader, tmp_path / "x.avi", kind="avi")
