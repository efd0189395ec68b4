"""`encoder shell-hook`: the snippets parse in their shells and install without printing anything."""
import os
import shutil
import subprocess

import pytest

from encoder.cli.main import main
from encoder.cli.shell_hook import SNIPPETS

CHECK = {"bash": ["bash", "-n"], "zsh": ["zsh", "-n"], "fish": ["fish", "--no-execute"]}


@pytest.mark.parametrize("shell", sorted(SNIPPETS))
def test_the_snippet_parses(shell, tmp_path, capsys):
    assert main(["shell-hook", shell]) == 0
    text = capsys.readouterr().out
    assert text == SNIPPETS[shell] and "encoder-shell-1" in text and "shell.fifo" in text
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    path = tmp_path / f"hook.{shell}"
    path.write_text(text)
    result = subprocess.run(CHECK[shell] + [str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("shell", sorted(SNIPPETS))
def test_without_a_recorder_the_shell_prints_nothing(shell, tmp_path):
    """Installed in an interactive shell, with no recorder (no FIFO): commands run, nothing
    is printed, exit statuses are kept."""
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    hook = tmp_path / "hook"
    hook.write_text(SNIPPETS[shell])
    script = {"bash": f"source {hook}; false; echo status=$?; true",
              "zsh": f"source {hook}; false; echo status=$?; true",
              "fish": f"source {hook}; false; echo status=$status; true"}[shell]
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path), HOME=str(tmp_path))
    result = subprocess.run([shell, "-i", "-c", script], capture_output=True, text=True, env=env, timeout=60,
                            stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "status=1"
    assert "encoder" not in result.stderr and "__encoder" not in result.stdout


def test_an_unknown_shell_is_a_usage_error(capsys):
    assert main(["shell-hook", "tcsh"]) == 2
