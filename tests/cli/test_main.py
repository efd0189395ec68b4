"""``encoder`` itself: ``--version``, usage errors, and ``python -m encoder`` in a subprocess
(:mod:`encoder.cli.main`, :mod:`encoder.__main__`)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import encoder
from encoder.cli import exit_codes, inspect, main

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


# -- one exit-code convention for every command --------------------------------------------
def test_exit_code_constants():
    assert (exit_codes.OK, exit_codes.DAMAGED, exit_codes.BAD_INPUT, exit_codes.INTERRUPTED) == (0, 1, 2, 130)
    assert exit_codes.worst([0, 2, 1]) == 2 and exit_codes.worst([1, 0]) == 1


@pytest.mark.parametrize("command", ["inspect", "verify", "export"])
@pytest.mark.parametrize("case, code", [("sound", 0), ("damaged", 1), ("missing", 2), ("not a shard", 2),
                                        ("usage", 2)])
def test_every_command_follows_the_convention(parts, tmp_path, command, case, code, capsys, shard_tools):
    path = {"sound": lambda: parts[0],
            "damaged": lambda: shard_tools.damage_block(parts[0], tmp_path / "bad.enc", "pointer", 1),
            "missing": lambda: str(tmp_path / "missing.enc"),
            "not a shard": lambda: shard_tools.corrupt_copy(parts[0], tmp_path, "text")}.get(case, lambda: None)()
    args = [command, *([path] if path else ["--no-such-option"])]
    if command == "export":
        args += ["--parquet", str(tmp_path / "out"), "-q"]
    assert main(args) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert (err == "") == (code == 0)
    if case in ("missing", "not a shard"):
        assert err.startswith("encoder: error: ")


def test_interrupt_and_closed_stdout(shard, monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    def closed(args):
        raise BrokenPipeError

    monkeypatch.setattr(inspect, "run", interrupted)
    assert main(["inspect", shard]) == exit_codes.INTERRUPTED
    monkeypatch.setattr(inspect, "run", closed)
    assert main(["inspect", shard]) == exit_codes.BROKEN_PIPE
    assert "Traceback" not in capsys.readouterr().err


def test_a_library_error_escaping_a_command_is_bad_input(shard, monkeypatch, capsys):
    def failing(args):
        raise encoder.errors.SchemaError("no such column", shard=args.path, stream="pointer", column="z")

    monkeypatch.setattr(inspect, "run", failing)
    assert main(["inspect", shard]) == exit_codes.BAD_INPUT
    assert capsys.readouterr().err == f"encoder: error: shard {shard!r}, stream 'pointer', column 'z': no such column\n"


def test_the_command_line_loads_no_loader_and_no_torch():
    """Every command starts with `import encoder.cli.main`: `encoder record` runs all day and
    `encoder shell-hook` in every new shell, so neither may pay for the loader and torch."""
    import subprocess
    import sys
    code = ("import sys, encoder.cli.main; "
            "print(sorted(m for m in ('torch', 'encoder.loader', 'ray', 'numba', 'zarr') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
    # and a command loads only its own module: the shell hook, run in every new shell
    code = ("import sys, encoder.cli.main; m = sys.modules['encoder.cli.main']; m.main(['shell-hook', 'bash']); "
            "print(sorted(n for n in sys.modules if n.startswith('encoder.cli.') and n[12:] in m.COMMANDS), "
            "file=sys.stderr)")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr
    assert err.strip() == "['encoder.cli.shell_hook']", err
