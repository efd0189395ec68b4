"""Shell commands: what the ``encoder shell-hook`` snippets report, as ``command`` rows.

Transport (docs/capture.md, "Shell commands", says why): a named FIFO
``<runtime dir>/shell.fifo``, the runtime directory being ``$XDG_RUNTIME_DIR/encoder``, else
``/tmp/encoder-<uid>``. A shell hook costs microseconds with it: the shell tests that the
FIFO exists and opens it read-write (``1<>``, which on Linux never blocks, even when no
reader is left after a crash) to write one record with its ``printf`` builtin. No process is
started per command (a Unix socket needs a client program; Python starts in ~20 ms).

Authentication: ``SO_PEERCRED`` exists only for sockets; the FIFO gets the same guarantee
from the file system. The recorder creates the directory 0700 and checks that it owns it,
that it is a real directory (not a link) and that nobody else may enter it, and makes the
FIFO 0600: only processes of the same user (and root) can open it, so every record comes
from the recorder's own user. The hooks write only to a FIFO that their user owns (``-O``)
in a directory their user owns, so another user cannot pose as the recorder either.

Records: fields separated by NUL (which no shell string holds), :data:`FIELDS` of them,
the first the tag ``encoder-shell-1``. A damaged or interleaved record (several shells
writing more than ``PIPE_BUF`` at once) is skipped up to the next tag and counted
(``malformed``). Each record becomes a row of the ``command`` stream, ``kind`` "shell",
judged by :class:`RowJudge` on the recorder thread (paused, excluded focus or terminal
window: no row) after :func:`~encoder.capture.redact.redact` removed its secrets.
"""
from __future__ import annotations

import errno
import fcntl
import os
import select
import stat
import threading

from ...errors import SourceUnavailableError
from ...shard.format import wall_clock_offset
from ..policy import EXCLUDED, NORMAL
from ..redact import redact
from . import Source

TAG = b"encoder-shell-1"
#: Fields of a record, the tag included: tag, shell, pid, tty, window id, start, end (Unix
#: seconds with a fraction, as ``$EPOCHREALTIME`` prints them; empty when unknown), duration
#: in ms (fish's ``$CMD_DURATION``; empty when start and end are given), exit status, cwd, text.
FIELDS = 11
FIFO_NAME = "shell.fifo"
LOCK_NAME = "shell.lock"
PID_NAME = "shell.pid"
PIPE_BYTES = 1 << 20
MAX_TEXT = 64 << 10


def runtime_dir(environ=None) -> str:
    """Where the FIFO lives: ``$XDG_RUNTIME_DIR/encoder``, else ``/tmp/encoder-<uid>``."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_RUNTIME_DIR")
    return os.path.join(base, "encoder") if base else f"/tmp/encoder-{os.getuid()}"


def private_dir(path: str) -> str:
    """Create ``path`` 0700 if missing; raise :class:`SourceUnavailableError` unless it is a
    directory (not a link) that this user owns and nobody else may enter."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise SourceUnavailableError(f"shell commands: cannot create {path}: {exc.strerror}") from None
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise SourceUnavailableError(f"shell commands: {path} is not a directory of this user: not listening")
    if info.st_mode & 0o077:
        raise SourceUnavailableError(f"shell commands: {path} is open to other users "
                                     f"(mode {stat.S_IMODE(info.st_mode):o}, needs 700): not listening")
    return path


def _unix_us(field: bytes) -> int | None:
    """``b"1700000000.123456"`` (``,`` in some locales; zsh prints more digits) -> microseconds."""
    text = field.decode("ascii", "replace").replace(",", ".")
    whole, _, fraction = text.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        return None
    return int(whole) * 1_000_000 + int((fraction + "000000")[:6])


def _int(field: bytes, default: int = -1) -> int:
    try:
        value = int(field)
    except ValueError:
        return default
    return value if -2**31 <= value < 2**31 else default


def parse_records(buffer: bytes) -> tuple[list[list[bytes]], bytes, int]:
    """Complete records in ``buffer``; returns (records as field lists, the rest, bytes skipped).

    >>> recs, rest, skipped = parse_records(b"junk\\0encoder-shell-1\\0bash\\0" + b"1\\0" * 9 + b"encoder-")
    >>> [r[1] for r in recs], rest, skipped
    ([b'bash'], b'encoder-', 5)
    """
    records, skipped, pos = [], 0, 0
    while True:
        at = buffer.find(TAG + b"\0", pos)
        if at < 0:  # keep what may be the start of a tag
            keep = max(pos, len(buffer) - len(TAG))
            skipped += keep - pos
            return records, buffer[keep:], skipped
        skipped += at - pos
        fields, end = [], at
        for _ in range(FIELDS):
            nul = buffer.find(b"\0", end)
            if nul < 0:
                return records, buffer[at:], skipped
            fields.append(buffer[end:nul])
            end = nul + 1
        if TAG + b"\0" in buffer[at + len(TAG) + 1:end]:  # another record starts inside: damaged
            skipped += len(TAG) + 1
            pos = at + len(TAG) + 1
            continue
        records.append(fields)
        pos = end


class RowJudge:
    """The policy applied to rows of sources other than input (shell commands): called on the
    recorder thread once the window state around the row's time is complete.

    A row at ``t`` that ended at ``end`` is refused, and counted per stream, when recording
    was paused at ``t`` or at ``end`` (``paused``), or when the focus verdict around ``t`` is
    excluded or the row's own window (a terminal's ``WINDOWID``) was last seen with the
    focus and excluded (``excluded``). Secret windows do not refuse commands: a command line
    is not what a password prompt reads, and secrets in it are redacted.

    >>> from encoder.capture.windows import WindowTimeline, WindowInfo
    >>> from encoder.capture.policy import PauseSwitch
    >>> tl, pause = WindowTimeline(guard_us=0), PauseSwitch()
    >>> judge = RowJudge(tl, pause)
    >>> tl.set_focus(100, WindowInfo(7, "KeePassXC", "keepassxc", "db", (0, 0, 9, 9), EXCLUDED))
    >>> tl.set_focus(200, WindowInfo(8, "XTerm", "xterm", "~", (0, 0, 9, 9)))
    >>> judge.keep("command", 150, 0, 150), judge.keep("command", 250, 0, 250), judge.keep("command", 250, 7, 250)
    (False, True, False)
    >>> pause.toggle(300); judge.keep("command", 250, 0, 310), judge.stats()
    (False, {'received': {'command': 4}, 'paused': {'command': 1}, 'excluded': {'command': 2}})
    """

    def __init__(self, timeline, pause, windows_kept: int = 4096):
        self.timeline, self.pause = timeline, pause
        self._verdicts: dict = {}           # window id -> verdict when it last had the focus
        self._lock = threading.Lock()
        self.windows_kept = windows_kept
        self.received: dict = {}
        self.paused: dict = {}
        self.excluded: dict = {}
        # told of every focus change, from the focus now on (no thread polls for them: each
        # wake-up of a sleeping thread costs ~0.1 ms of CPU on a virtual machine)
        self.saw(timeline.focus.window, timeline.focus.verdict)
        timeline.focus_listeners.append(lambda t_us, info: self.saw(info.window, info.verdict))

    def saw(self, window: int, verdict: str) -> None:
        """``window`` had the focus with ``verdict`` (any thread; 0, no window, is ignored)."""
        if not window:
            return
        with self._lock:
            if self._verdicts.get(window) == verdict:
                return
            self._verdicts.pop(window, None)
            self._verdicts[window] = verdict
            if len(self._verdicts) > self.windows_kept:   # forget the longest unseen
                del self._verdicts[next(iter(self._verdicts))]

    def keep(self, stream: str, t_us: int, window: int, end_us: int) -> bool:
        """Whether a row of ``stream`` at ``t_us`` may be written (counts what it refuses)."""
        self.received[stream] = self.received.get(stream, 0) + 1
        if self.pause.paused_at(t_us) or self.pause.paused_at(end_us):
            self.paused[stream] = self.paused.get(stream, 0) + 1
            return False
        with self._lock:
            window_verdict = self._verdicts.get(window, NORMAL) if window else NORMAL
        if window_verdict == EXCLUDED or self.timeline.focus_verdict(t_us) == EXCLUDED:
            self.excluded[stream] = self.excluded.get(stream, 0) + 1
            return False
        return True

    def stats(self) -> dict:
        return {"received": dict(self.received), "paused": dict(self.paused), "excluded": dict(self.excluded)}


class ShellCommands(Source):
    """Listens on the FIFO for the shell hooks' records (``encoder shell-hook``).

    Without a usable runtime directory (another user's, open to others) or while another
    recorder listens, it records nothing and says why in :meth:`describe` (``listening``
    false, ``reason``); the recording goes on.
    """

    name = "shell"

    def __init__(self, directory: str | None = None):
        self.directory = directory or runtime_dir()
        self.fifo = os.path.join(self.directory, FIFO_NAME)
        self.reason = ""
        self.commands = self.redacted = self.malformed = 0
        self._fd = self._lock_fd = None
        self._thread = None
        self._wake_r = self._wake_w = None
        self._stopping = threading.Event()

    # -- lifecycle --------------------------------------------------------------------
    def open(self, recorder) -> None:
        super().open(recorder)
        self.judge = RowJudge(recorder.timeline, recorder.pause)
        self._offset = wall_clock_offset({"clock": recorder.anchor}) or 0
        try:
            private_dir(self.directory)
        except SourceUnavailableError as exc:
            self.reason = exc.detail if hasattr(exc, "detail") else str(exc)
            return
        lock = os.open(os.path.join(self.directory, LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(lock)
            self.reason = "another recorder receives the shell commands"
            return
        self._lock_fd = lock
        try:   # a FIFO left by a recorder that crashed, or anything else there: replaced
            os.unlink(self.fifo)
        except FileNotFoundError:
            pass
        os.mkfifo(self.fifo, 0o600)
        os.chmod(self.fifo, 0o600)   # whatever the umask
        # read-write: the FIFO never reports end-of-file when the last shell closes it
        self._fd = os.open(self.fifo, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            fcntl.fcntl(self._fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)  # room for bursts; shells never wait
        except (OSError, AttributeError):
            pass
        self._wake_r, self._wake_w = os.pipe()
        # who holds the FIFO, for hooks that cannot open it read-write (fish): they write only
        # while /proc/<pid>/fd/<fd> is this FIFO, so a write cannot block on a dead recorder
        temp = os.path.join(self.directory, f".{PID_NAME}.{os.getpid()}")
        with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(f"{os.getpid()} {self._fd}\n")
        os.replace(temp, os.path.join(self.directory, PID_NAME))

    def describe(self) -> dict:
        info = {"transport": "fifo", "path": self.fifo, "listening": self._fd is not None,
                "format": TAG.decode()}
        if self.reason:
            info["reason"] = self.reason
        return info

    def start(self) -> None:
        if self._fd is None:
            return
        self._thread = threading.Thread(target=self._run, name="encoder-shell", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            os.write(self._wake_w, b"x")
            self._thread.join()
            self._thread = None
        if self._fd is not None:
            try:   # shells stop writing at once (they test that the FIFO exists)
                if os.stat(self.fifo).st_ino == os.fstat(self._fd).st_ino:
                    os.unlink(self.fifo)
                os.unlink(os.path.join(self.directory, PID_NAME))
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None
            for fd in (self._wake_r, self._wake_w, self._lock_fd):
                os.close(fd)
        if getattr(self, "_error", None) is not None:
            raise self._error

    def stats(self) -> dict:
        judge = getattr(self, "judge", None)
        return {"commands": self.commands, "redacted": self.redacted, "malformed": self.malformed,
                **({} if judge is None else {"refused": {"paused": judge.paused.get("command", 0),
                                                         "excluded": judge.excluded.get("command", 0)}})}

    # -- the listener thread ----------------------------------------------------------
    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        buffer = b""
        try:
            while True:
                ready = poller.poll()   # a record, or stop()
                buffer = self._drain(buffer)
                if self._stopping.is_set() or any(fd == self._wake_r for fd, _ in ready):
                    self._drain(buffer)
                    return
        except Exception as exc:  # reported by stop(); the recording goes on without commands
            self.fail(exc)

    def _drain(self, buffer: bytes) -> bytes:
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    break
                raise
            if not data:
                break
            buffer += data
        records, buffer, skipped = parse_records(buffer)
        if skipped:
            self.malformed += 1
        for fields in records:
            self._command(fields)
        if len(buffer) > 4 * MAX_TEXT:  # a record that never ends: drop it
            self.malformed += 1
            buffer = b""
        return buffer

    def _command(self, fields: list) -> None:
        _, shell, pid, tty, window, start, end, duration_ms, status, cwd, text = fields
        now = self.recorder.clock()
        end_us = _unix_us(end)
        end_t = now if end_us is None else min(end_us - self._offset, now)
        start_us = _unix_us(start)
        if start_us is not None:
            t = min(start_us - self._offset, end_t)
            duration = end_t - t if end_us is not None else -1
        elif duration_ms.isdigit():            # fish: the duration only, the end is now
            duration = int(duration_ms) * 1000
            t = end_t - duration
        else:
            t, duration = end_t, -1
        command, removed = redact(text[:MAX_TEXT].decode("utf-8", "replace") or None)
        self.commands += 1
        self.redacted += removed
        row = (t, "shell", command, cwd.decode("utf-8", "replace") or None, _int(status), duration, _int(pid),
               tty.decode("utf-8", "replace") or None)
        judge = self.judge

        def write(t_us, rows, row=row, window=_int(window, 0), end=end_t):
            if judge.keep("command", t_us, window, end):
                rows.setdefault("command", []).append(row)
        self.recorder.put_row(t, write)


__all__ = ["FIELDS", "FIFO_NAME", "RowJudge", "ShellCommands", "TAG", "parse_records", "private_dir", "runtime_dir"]
