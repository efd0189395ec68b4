"""``encoder redact``: what it prints, what it refuses (exit 2), and that the input stays as it was."""
from __future__ import annotations

import numpy as np

import encoder
from encoder.cli import exit_codes
from encoder.cli.main import main

from review.sessions import sha256, write_session


def test_redact_prints_and_blacks_out(tmp_path, capsys):
    src = write_session(tmp_path / "in.enc")
    before = sha256(src)
    out = str(tmp_path / "out.enc")
    assert main(["redact", src, "--rect", "10,10,20,20", "--rect", "0,0,5,5@4-6", "--screen", "0",
                 "-o", out]) == exit_codes.OK
    printed = capsys.readouterr().out
    assert "blacked out 10,10,20,20, 0,0,5,5@4-6 of screen 0" in printed
    assert "frames of screen 0: 20 -> 20 (0 removed, 20 redacted)" in printed
    assert sha256(src) == before
    with encoder.ShardReader(out) as r, encoder.ShardReader(src) as a:
        assert (r.frame(3)[10:30, 10:30] == [0, 0, 0, 255]).all()
        assert np.array_equal(r.frame(0, screen=1), a.frame(0, screen=1))


def test_errors_exit_2(tmp_path, capsys):
    src = write_session(tmp_path / "in.enc", screens=(0,))
    out = tmp_path / "out.enc"
    for rect, message in [("90,60,10,10", "reaches outside the 96x64 frame of screen 0"),
                          ("1,1,0,5", "width and height must be at least 1 pixel"),
                          ("1,1,5", "bad rectangle '1,1,5'"),
                          ("1,1,5,5@30-40", "no frame in 30-40 s")]:
        assert main(["redact", src, "--rect", rect, "-o", str(out)]) == exit_codes.BAD_INPUT
        assert message in capsys.readouterr().err
    out.write_bytes(b"x")
    assert main(["redact", src, "--rect", "1,1,5,5", "-o", str(out)]) == exit_codes.BAD_INPUT
    assert "exists" in capsys.readouterr().err and out.read_bytes() == b"x"
    assert main(["redact", src, "--rect", "1,1,5,5", "-o", str(out), "--overwrite"]) == exit_codes.OK
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.enc", "out.enc"]
