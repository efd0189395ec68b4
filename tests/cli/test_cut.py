"""``encoder cut``: what it prints, what it refuses (exit 2), and that the input stays as it was."""
from __future__ import annotations

import encoder
from encoder.cli import exit_codes
from encoder.cli.main import main

from review.sessions import KEY, T0, sha256, write_session


def test_cut_prints_what_it_removed(tmp_path, capsys):
    src = write_session(tmp_path / "in.enc")
    before = sha256(src)
    out = str(tmp_path / "out.enc")
    assert main(["cut", src, "--drop", "4-6", "--drop", "9-", "-o", out]) == exit_codes.OK
    printed = capsys.readouterr().out
    assert "dropped 4-6, 9- s" in printed and "frames of screen 0: 20 -> 14 (6 removed)" in printed
    assert "pointer" in printed and "unique tiles:" in printed and "bytes:" in printed and "verified" in printed
    assert sha256(src) == before
    with encoder.ShardReader(out) as r:
        t = r.read("pointer").column("t").to_numpy() - T0
        assert len(t) == 70 and not ((t >= 4_000_000) & (t < 6_000_000)).any() and t.max() < 9_000_000


def test_from_the_start(tmp_path):
    src = write_session(tmp_path / "in.enc", screens=(0,))
    out = str(tmp_path / "out.enc")
    assert main(["cut", src, "--drop=-2", "-o", out]) == exit_codes.OK
    assert encoder.ShardReader(out).frame_times().min() == T0 + 2_000_000


def test_errors_exit_2(tmp_path, capsys):
    src = write_session(tmp_path / "in.enc", screens=(0,))
    before = sha256(src)
    out = tmp_path / "out.enc"
    for args, message in [
        (["--drop", "6-4"], "bad time range '6-4': the end must come after the start"),
        (["--drop", "soon"], "bad time range 'soon'"),
    ]:
        assert main(["cut", src, *args, "-o", str(out)]) == exit_codes.BAD_INPUT
        assert message in capsys.readouterr().err
    assert main(["cut", src, "-o", str(out)]) == exit_codes.BAD_INPUT  # --drop is required
    out.write_bytes(b"x")
    assert main(["cut", src, "--drop", "1-2", "-o", str(out)]) == exit_codes.BAD_INPUT
    assert "exists: pass --overwrite" in capsys.readouterr().err and out.read_bytes() == b"x"
    assert main(["cut", src, "--drop", "1-2", "-o", src, "--overwrite"]) == exit_codes.BAD_INPUT
    assert "is the input" in capsys.readouterr().err
    assert main(["cut", str(tmp_path / "missing.enc"), "--drop", "1-2", "-o", str(tmp_path / "o.enc")]) == 2
    assert sha256(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.enc", "out.enc"]


def test_encrypted(tmp_path, capsys):
    src = write_session(tmp_path / "in.enc", encryption_key=KEY, screens=(0,))
    out = str(tmp_path / "out.enc")
    assert main(["cut", src, "--drop", "1-2", "-o", out]) == exit_codes.BAD_INPUT
    assert "encryption" in capsys.readouterr().err.lower()
    key_file = tmp_path / "key.hex"
    key_file.write_text(KEY.hex())
    assert main(["cut", src, "--drop", "1-2", "-o", out, "--encryption-key-file", str(key_file)]) == 0
    assert "encrypted with the input's key" in capsys.readouterr().out
    assert encoder.ShardReader(out, encryption_key=KEY).encrypted
