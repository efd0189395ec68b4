"""``encoder`` itself: ``--version``, usage errors, and ``python -m encoder`` in a subprocess
(:mod:`encoder.cli.main`, :mod:`encoder.__main__`)."""
from __future__ import annotations

import os
import subprocess
import sys

import encoder
from encoder.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_version(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"encoder {encoder.__version__}") and encoder.backend in out


def test_no_command_or_unknown_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "usage: encoder" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_m_encoder(shard, tmp_path, corrupt):
    bad = corrupt(shard, tmp_path, "chunk")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "encoder", "verify", shard, bad],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert f"OK    {shard}" in proc.stdout
    assert f"encoder: error: shard {bad!r}" in proc.stderr
    assert "Traceback" not in proc.stderr
