"""AgentNet import (:mod:`encoder.importers.agentnet`): synthetic episodes everywhere, the public
OpenCUA episode where ``../shared/anchors/actions`` is present."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import encoder
from encoder.errors import SchemaError, SourceUnavailableError
from encoder.importers import import_agentnet
from encoder.importers.events import window_id
from encoder.streams.keys import CONTROL, MOD1

METADATA = {"system": "Windows", "release": "10", "machine": "AMD64", "screen_width": 1366, "screen_height": 768,
            "scroll_direction": -1, "start_time": "2024-11-05 18:56:31", "video_start_timestamp": 100.25,
            "obs_record_state_timings": {"OBS_WEBSOCKET_OUTPUT_STARTED": [100.75]}}
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
                                  reason="needs the ffmpeg and ffprobe programs")


def event(idx, t, action, **fields):
    return {"time_stamp": t, "action": action, **fields, "event_idx": idx}


def episode(recording, folder, events=None, metadata=METADATA, **files):
    events = events if events is not None else [
        event(0, 101.0000004, "move", x=961, y=606),
        event(1, 101.5, "click", x=1328, y=745, button="left", pressed=True),
        event(2, 101.6, "click", x=1328, y=745, button="left", pressed=False),
        event(3, 102.0, "scroll", x=541, y=602, dx=0, dy=-1),
        event(4, 102.1, "scroll", x=-64, y=1592, dx=0, dy=1),    # off the main screen: kept as is
        event(5, 103.0, "pause"), event(6, 104.0, "resume"),
        event(7, 105.0, "press", name="ctrl_l", pynput_key="Key.ctrl_l"),
        event(8, 105.1, "press", name="alt_l", pynput_key="Key.alt_l"),
        event(9, 105.2, "press", name="T", pynput_key="<84>"),          # a vk code without character
        event(10, 105.3, "release", name="T", pynput_key="<84>"),
        event(11, 105.4, "release", name="alt_l", pynput_key="Key.alt_l"),
        event(12, 105.5, "press", name="A", pynput_key="'\\x01'"),       # ctrl+a as pynput's char
        event(13, 105.6, "release", name="ctrl_l", pynput_key="Key.ctrl_l"),
        event(14, 105.7, "press", name="a", pynput_key="'a'"),
        event(15, 105.8, "press", name="NUM 5", pynput_key="<101>"),
    ]
    files.setdefault("top_window", [{"time_stamp": 100.5, "top_window_name": "explorer"},
                                    {"time_stamp": 102.5, "top_window_name": "chrome", "window_title": "New Tab"}])
    folder = recording(folder, events, metadata, **files)
    (folder / "task_name.json").write_text(json.dumps({"task_name": "Open settings", "description": ""}))
    return folder


def test_episode_maps_to_streams(tmp_path, recording):
    folder = episode(recording, tmp_path / "ep")
    summary = import_agentnet(folder, tmp_path / "s.enc")
    assert summary["rows"] == {"pointer": 1, "button": 2, "scroll": 2, "key": 9, "focus": 2, "marker": 2}
    assert summary["skipped"] == {} and summary["frames"] == 0 and summary["lines"] == 16
    data = encoder.decode(tmp_path / "s.enc")
    assert data["pointer"].to_pydict() == {"t": [101000000], "x": [961], "y": [606]}
    assert data["scroll"].to_pydict() == {"t": [102000000, 102100000], "dx": [0, 0], "dy": [1, -1],
                                          "precise": [False, False], "x": [541, -64], "y": [602, 1592]}
    keys = data["key"].to_pydict()
    assert [hex(c) for c in keys["code"]] == ["0xffe3", "0xffe9", "0x74", "0x74", "0xffe9", "0x61", "0xffe3",
                                              "0x61", "0xffb5"]
    assert keys["modifiers"] == [0, CONTROL, CONTROL | MOD1, CONTROL | MOD1, CONTROL | MOD1, CONTROL, CONTROL, 0, 0]
    assert keys["text"] == [None] * 7 + ["a", "5"]
    assert data["marker"].to_pydict() == {"t": [103000000, 104000000], "kind": ["pause", "resume"],
                                          "text": ['{"by": "agentnet"}'] * 2, "value": [0, 0]}
    focus = data["focus"].to_pydict()
    assert focus["t"] == [100500000, 102500000] and focus["app"] == ["explorer", "chrome"]
    assert focus["title"] == [None, "New Tab"]
    assert focus["window"] == [window_id("explorer", None), window_id("chrome", "New Tab")]
    assert focus["width"] == [0, 0]
    meta = encoder.ShardReader(tmp_path / "s.enc").metadata
    assert meta["screens"] == [{"id": 0, "x": 0, "y": 0, "width": 1366, "height": 768}]
    assert meta["platform"] == {"system": "Windows", "release": "10", "machine": "AMD64", "scroll_direction": -1,
                                "natural_scrolling": True}
    assert meta["importer"]["recording"]["video_start_timestamp"] == 100.25
    assert meta["task"] == {"task_name": "Open settings"}


def test_window_ids_are_stable_across_imports(tmp_path, recording):
    folder = episode(recording, tmp_path / "ep")
    import_agentnet(folder, tmp_path / "a.enc")
    import_agentnet(folder / "events.jsonl", tmp_path / "b.enc")
    window = [encoder.decode(p)["focus"].column("window").to_pylist() for p in (tmp_path / "a.enc", tmp_path / "b.enc")]
    assert window[0] == window[1] and all(0 <= w < 1 << 63 for w in window[0])


def test_without_the_side_files(tmp_path, recording):
    folder = recording(tmp_path / "ep", [event(0, 1.0, "move", x=1, y=2)])
    summary = import_agentnet(folder, tmp_path / "s.enc")
    assert summary["rows"] == {"pointer": 1, "button": 0, "scroll": 0, "key": 0}
    meta = encoder.ShardReader(tmp_path / "s.enc").metadata
    assert "screens" not in meta and "platform" not in meta and "task" not in meta


def test_malformed_top_window_names_file_and_line(tmp_path, recording):
    folder = episode(recording, tmp_path / "ep", top_window=[{"time_stamp": 1, "top_window_name": "x"},
                                                             {"time_stamp": 2}])
    with pytest.raises(SchemaError, match=r"top_window\.jsonl, line 2: needs a string 'top_window_name'"):
        import_agentnet(folder, tmp_path / "s.enc")
    assert not (tmp_path / "s.enc").exists()


def test_malformed_metadata(tmp_path, recording):
    folder = episode(recording, tmp_path / "ep", metadata=dict(METADATA, scroll_direction=0))
    with pytest.raises(SchemaError, match=r"metadata\.json: scroll_direction must be 1 or -1"):
        import_agentnet(folder, tmp_path / "s.enc")
    (folder / "metadata.json").write_text("{")
    with pytest.raises(SchemaError, match=r"metadata\.json: not valid JSON"):
        import_agentnet(folder, tmp_path / "s.enc")


# -- frames ---------------------------------------------------------------------------------------
def make_video(path, frames: int = 7, rate: int = 10):
    """A small MPEG-4 video with B-frames (packets out of presentation order)."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=32x24:rate={rate}",
                    "-frames:v", str(frames), "-c:v", "mpeg4", "-bf", "2", "-pix_fmt", "yuv420p", str(path)],
                   check=True)


def decoded(path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, 24, 32, 3)


@needs_ffmpeg
def test_frames_land_on_the_events_clock(tmp_path, recording):
    folder = episode(recording, tmp_path / "ep")
    make_video(folder / "video.mp4")
    summary = import_agentnet(folder, tmp_path / "s.enc", frames=True, decoder="ffmpeg")
    assert summary["frames"] == 7
    with encoder.ShardReader(tmp_path / "s.enc") as reader:
        # video_start_timestamp 100.25 s + k / 10 s, exactly
        assert reader.frame_times().tolist() == [100_250_000 + k * 100_000 for k in range(7)]
        expected = decoded(folder / "video.mp4")
        assert all((reader.frame(k) == expected[k]).all() for k in range(7))
        video = reader.metadata["importer"]["video"]
    assert video["width"] == 32 and video["height"] == 24 and video["start_us"] == 100_250_000
    assert video["decoder"] == "ffmpeg" and video["file"] == "video.mp4"


@needs_ffmpeg
def test_frames_need_a_video_and_its_start(tmp_path, recording):
    folder = episode(recording, tmp_path / "ep")
    with pytest.raises(SchemaError, match="found 0 .mp4 files"):
        import_agentnet(folder, tmp_path / "s.enc", frames=True)
    make_video(folder / "2024-11-05 18-56-31.mp4")   # OBS's own name is found too
    meta = dict(METADATA)
    del meta["video_start_timestamp"]
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(SchemaError, match="needs a numeric 'video_start_timestamp'"):
        import_agentnet(folder, tmp_path / "s.enc", frames=True)
    (folder / "metadata.json").write_text(json.dumps(METADATA))
    assert import_agentnet(folder, tmp_path / "s.enc", frames=True, decoder="ffmpeg")["frames"] == 7
    (folder / "2024-11-05 18-56-31.mp4").write_bytes(b"not a video")
    with pytest.raises(SchemaError, match="ffprobe cannot read it"):
        import_agentnet(folder, tmp_path / "t.enc", frames=True, decoder="ffmpeg")
    assert not (tmp_path / "t.enc").exists() and not (tmp_path / "t.enc.partial").exists()


def test_frames_without_a_decoder_say_what_is_missing(tmp_path, recording, monkeypatch):
    folder = episode(recording, tmp_path / "ep")
    (folder / "video.mp4").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "av", None)   # import av fails
    with pytest.raises(SourceUnavailableError, match=r"needs PyAV \(pip install av\)"):
        import_agentnet(folder, tmp_path / "s.enc", frames=True, decoder="av")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SourceUnavailableError, match="PyAV .* or the ffmpeg and ffprobe programs"):
        import_agentnet(folder, tmp_path / "s.enc", frames=True)
    assert not (tmp_path / "s.enc").exists()


# -- the public episode ---------------------------------------------------------------------------
def test_public_episode_counts_match_the_readme(anchor, tmp_path):
    src = anchor("opencua-agentnet", "episode")
    summary = import_agentnet(src, tmp_path / "an.enc")
    # README: 4,099 events: 4,034 move, 42 button press/release, 19 scroll, 3 key press, 1 key release
    assert summary["rows"] == {"pointer": 4034, "button": 42, "scroll": 19, "key": 4, "focus": 4}
    assert summary["skipped"] == {} and summary["lines"] == 4099
    with encoder.ShardReader(tmp_path / "an.enc") as reader:
        assert reader.verify() == summary["rows"]
        data = {name: reader.read(name).to_pydict() for name in reader.streams}
        meta = reader.metadata
    assert data["pointer"]["t"][0] == 30679828030 and (data["pointer"]["x"][0], data["pointer"]["y"][0]) == (961, 606)
    assert data["button"]["button"].count(3) == 2 and data["button"]["pressed"].count(True) == 21
    # 15 ticks toward the user (down the settings page, as the video shows) and 4 back up
    assert data["scroll"]["dy"].count(1) == 15 and data["scroll"]["dy"].count(-1) == 4
    # the stop hotkey ctrl+alt+T: T is vk 84 without a character, the state holds Control and Alt
    assert data["key"]["code"] == [0xffe3, 0xffe9, ord("t"), ord("t")]
    assert data["key"]["modifiers"] == [0, CONTROL, CONTROL | MOD1, CONTROL | MOD1]
    assert data["focus"]["app"] == ["agentnet-annotator", "explorer", "ShellExperienceHost", "ApplicationFrameHost"]
    assert max(data["pointer"]["y"]) > 768   # events beyond the main screen (a second monitor?) are kept
    assert meta["screens"][0]["width"] == 1366 and meta["platform"]["system"] == "Windows"
    assert meta["importer"]["recording"]["video_start_timestamp"] == 30673.6036902


@pytest.mark.slow
@needs_ffmpeg
def test_public_episode_frames(anchor, tmp_path):
    src = anchor("opencua-agentnet", "episode")
    summary = import_agentnet(src, tmp_path / "an.enc", frames=True, decoder="ffmpeg")
    assert summary["frames"] == 3678   # 122.6 s at 30 fps
    with encoder.ShardReader(tmp_path / "an.enc") as reader:
        times = reader.frame_times()
        assert times[0] == 30673603690 and np.all(np.diff(times) > 0)
        assert reader.frame(0).shape == (718, 1276, 3)   # OBS scaled 1366x768 down


@needs_ffmpeg
def test_pyav_and_ffmpeg_give_the_same_frames(tmp_path, recording):
    pytest.importorskip("av")
    folder = episode(recording, tmp_path / "ep")
    make_video(folder / "video.mp4", frames=9)
    for decoder in ("av", "ffmpeg"):
        assert import_agentnet(folder, tmp_path / f"{decoder}.enc", frames=True, decoder=decoder)["frames"] == 9
    with encoder.ShardReader(tmp_path / "av.enc") as a, encoder.ShardReader(tmp_path / "ffmpeg.enc") as b:
        assert a.frame_times().tolist() == b.frame_times().tolist()
        assert all((a.frame(k) == b.frame(k)).all() for k in range(9))
