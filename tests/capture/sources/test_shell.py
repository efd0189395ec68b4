"""Shell commands: a real interactive bash with the hook, a recorder listening, and the hook's cost."""
import os
import pty
import re
import select
import shutil
import statistics
import subprocess
import time

import pyarrow as pa
import pytest

import encoder
from encoder.capture import Recorder
from encoder.capture.sources.fake import FakeWindows
from encoder.capture.sources.shell import FIFO_NAME, ShellCommands, parse_records, private_dir
from encoder.cli.shell_hook import SNIPPETS
from encoder.errors import SourceUnavailableError

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")

TOKEN = "ghp_" + "a1B2c3D4e5" * 4
SECRETS = (TOKEN, "abc.def.ghi", "u:p@", ":p@example")
PROMPT = "ENC-PROMPT> "


class Bash:
    """An interactive bash on a pseudo-terminal, with the hook in its rc file."""

    def __init__(self, tmp_path, runtime):
        rc = tmp_path / "rc"
        rc.write_text("PS1='" + PROMPT + "'\ncurl() { return 7; }\nPROMPT_COMMAND='__mine=1'\n"
                      "trap '__user_debug=1' DEBUG\n" + SNIPPETS["bash"])
        env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), HISTFILE=str(tmp_path / "history"), TERM="dumb",
                   HISTCONTROL="ignoredups")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: an interactive bash on the terminal
            os.chdir(tmp_path)
            os.execve(shutil.which("bash"), ["bash", "--noprofile", "--rcfile", str(rc), "-i"], env)
        self.out = b""
        self.expect_prompt()

    def expect_prompt(self, timeout=20):
        deadline = time.monotonic() + timeout
        while PROMPT.encode() not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, self.out[-2000:]
            if select.select([self.fd], [], [], left)[0]:
                self.out += os.read(self.fd, 65536)
        text, self.out = self.out, self.out.split(PROMPT.encode(), 1)[1]
        return text

    def run(self, line):
        os.write(self.fd, line.encode() + b"\n")
        time.sleep(0.05)
        return self.expect_prompt()

    def close(self):
        os.write(self.fd, b"exit\n")
        os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def runtime(tmp_path):
    path = tmp_path / "run"
    path.mkdir(mode=0o700)
    return path


def test_a_real_bash_reports_its_commands(tmp_path, runtime):
    windows, shell = FakeWindows(), ShellCommands(str(runtime / "encoder"))
    rec = Recorder(tmp_path / "out", sources=[windows, shell], batch_seconds=0.1)
    rec.start()
    assert oct((runtime / "encoder").stat().st_mode & 0o777) == "0o700"
    assert oct((runtime / "encoder" / FIFO_NAME).stat().st_mode & 0o777) == "0o600"
    bash = Bash(tmp_path, runtime)
    try:
        bash.run("false")
        bash.run("cd /tmp")
        bash.run("ls -d . | wc -l")
        bash.run("sleep 1.2")
        bash.run(f"export GITHUB_TOKEN={TOKEN}")
        bash.run("curl -H 'Authorization: Bearer abc.def.ghi' https://u:p@example.com")
        bash.run("")                      # an empty line is no command
        printed = bash.run("echo $__mine $__user_debug")   # the user's PROMPT_COMMAND and DEBUG trap still run
        bash.run("false")
    finally:
        bash.close()
    time.sleep(0.3)
    rec.stop()
    assert b"\r\n1 1\r\n" in printed
    assert not (runtime / "encoder" / FIFO_NAME).exists()  # removed at stop: hooks go quiet
    r = encoder.ShardReader(rec.shards[0])
    rows = r.read("command").to_pylist()
    texts = [row["text"] for row in rows]
    assert texts == ["false", "cd /tmp", "ls -d . | wc -l", "sleep 1.2", "export GITHUB_TOKEN=***",
                     "curl -H 'Authorization: ***' https://u:***@example.com", "echo $__mine $__user_debug",
                     "false"]
    assert all(row["kind"] == "shell" and row["pid"] == bash.pid and row["terminal"].startswith("/dev/")
               for row in rows)
    assert [row["exit_code"] for row in rows] == [1, 0, 0, 0, 0, 7, 0, 1]
    assert rows[0]["cwd"] == str(tmp_path) and rows[1]["cwd"] == str(tmp_path) and rows[2]["cwd"] == "/tmp"
    assert 1_200_000 <= rows[3]["duration_us"] < 3_000_000
    assert all(0 <= row["duration_us"] < 1_000_000 for i, row in enumerate(rows) if i != 3)
    assert [row["t"] for row in rows] == sorted(row["t"] for row in rows)
    stats = shell.stats()
    assert stats["commands"] == 8 and stats["redacted"] == 3 and stats["malformed"] == 0
    # no secret anywhere: every string column of every stream, decoded
    for stream in r.streams:
        if stream in ("frame", "tile"):
            continue
        table = r.read(stream)
        for name in table.column_names:
            if pa.types.is_string(table.schema.field(name).type):
                for value in table.column(name).to_pylist():
                    assert not any(s in (value or "") for s in SECRETS), (stream, name, value)


def test_commands_are_dropped_while_paused_and_in_excluded_windows(tmp_path, runtime):
    from encoder.capture import WindowInfo
    windows, shell = FakeWindows(), ShellCommands(str(runtime / "encoder"))
    rec = Recorder(tmp_path / "out", sources=[windows, shell], batch_seconds=0.1)
    rec.start()
    fifo = os.open(runtime / "encoder" / FIFO_NAME, os.O_WRONLY)

    def send(text, t_unix):
        fields = [b"encoder-shell-1", b"bash", b"42", b"/dev/pts/1", b"", f"{t_unix:.6f}".encode(),
                  f"{t_unix + 0.01:.6f}".encode(), b"", b"0", b"/", text.encode()]
        os.write(fifo, b"\0".join(fields) + b"\0")

    offset = (rec.anchor["unix_us_at_t0"] - rec.anchor["t0_us"]) / 1e6
    now = rec.clock() / 1e6 + offset
    windows.focus(rec.clock(), WindowInfo(5, "KeePassXC", "keepassxc", "db", (0, 0, 9, 9), "excluded"))
    send("in the password manager", now + 0.001)
    time.sleep(0.5)
    windows.focus(rec.clock(), WindowInfo(6, "XTerm", "xterm", "~", (0, 0, 9, 9)))
    rec.pause.toggle(rec.clock())
    send("while paused", rec.clock() / 1e6 + offset)
    rec.pause.toggle(rec.clock() + 1)
    time.sleep(0.3)
    send("kept", rec.clock() / 1e6 + offset)
    os.write(fifo, b"garbage\0encoder-shell-1\0half")
    time.sleep(0.5)
    os.close(fifo)
    rec.stop()
    texts = encoder.ShardReader(rec.shards[0]).read("command")["text"].to_pylist()
    assert texts == ["kept"]
    assert shell.stats()["refused"] == {"paused": 1, "excluded": 1}


def test_the_runtime_directory_must_be_private(tmp_path):
    open_dir = tmp_path / "open"
    open_dir.mkdir(mode=0o755)
    open_dir.chmod(0o755)
    with pytest.raises(SourceUnavailableError, match="open to other users"):
        private_dir(str(open_dir))
    (tmp_path / "link").symlink_to(tmp_path)
    with pytest.raises(SourceUnavailableError, match="not a directory of this user"):
        private_dir(str(tmp_path / "link"))
    shell = ShellCommands(str(open_dir))
    rec = Recorder(tmp_path / "out", sources=[shell])
    rec.start()
    rec.stop()
    assert shell.describe()["listening"] is False and "open to other users" in shell.describe()["reason"]


def test_a_second_recorder_does_not_listen(tmp_path, runtime):
    first, second = ShellCommands(str(runtime / "e")), ShellCommands(str(runtime / "e"))
    with Recorder(tmp_path / "a", sources=[first]), Recorder(tmp_path / "b", sources=[second]):
        assert first.describe()["listening"] and not second.describe()["listening"]
        assert second.describe()["reason"] == "another recorder receives the shell commands"


def test_records_survive_damage():
    good = b"\0".join([b"encoder-shell-1", b"zsh"] + [b"1"] * 9) + b"\0"
    recs, rest, skipped = parse_records(b"xx" + good[:30] + good + good[:5])
    assert [r[1] for r in recs] == [b"zsh"] and rest == good[:5] and skipped > 0


HOOK_COST = r"""
__times=()
for ((__i = 0; __i < 200; __i++)); do
    __s=$EPOCHREALTIME
    eval "$PROMPT_COMMAND"
    :
    __e=$EPOCHREALTIME
    __times+=($(( ${__e/[.,]/} - ${__s/[.,]/} )))
done
echo "${__times[@]}"
"""


def _prompt_cycle_us(tmp_path, runtime, hooked: bool) -> float:
    """Median time (us) of one prompt cycle (PROMPT_COMMAND, then a command, the DEBUG trap
    firing as at a real prompt) in an interactive bash, with or without the hook."""
    rc = tmp_path / ("rc-hooked" if hooked else "rc-plain")
    rc.write_text("PROMPT_COMMAND=':'\n" + (SNIPPETS["bash"] if hooked else ""))
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), HISTFILE=str(tmp_path / "h"))
    out = subprocess.run(["bash", "--noprofile", "--rcfile", str(rc), "-i", "-c", HOOK_COST], env=env,
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    times = [int(v) for v in out.stdout.split()]
    assert len(times) == 200, out.stderr
    return statistics.median(times)


def test_the_hook_costs_under_a_millisecond_without_a_recorder(tmp_path, runtime, capsys):
    if not re.match(r"\d+\.\d+", subprocess.run(["bash", "-c", "echo $EPOCHREALTIME"], capture_output=True,
                                               text=True).stdout):
        pytest.skip("bash < 5 has no EPOCHREALTIME")
    plain = min(_prompt_cycle_us(tmp_path, runtime, False) for _ in range(3))
    hooked = min(_prompt_cycle_us(tmp_path, runtime, True) for _ in range(3))
    added = hooked - plain
    with Recorder(tmp_path / "out", sources=[ShellCommands(str(runtime / "encoder"))]):
        listening = min(_prompt_cycle_us(tmp_path, runtime, True) for _ in range(3)) - plain
    with capsys.disabled():
        print(f"\nbash hook, median per command over 200: {added:.0f} us added without a recorder "
              f"({plain:.0f} us plain, {hooked:.0f} us hooked), {listening:.0f} us with a recorder listening")
    assert added < 1000
