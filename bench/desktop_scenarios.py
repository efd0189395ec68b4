"""The corpus scenarios of ``desktop_workload.py`` beyond ``terminal`` and ``browser``.

Each scenario is a ``setup(desk) -> {name: window id}`` that writes what its windows show into
the desktop's temporary HOME and opens and places the windows, and a ``step(drv)`` that the
:class:`desktop_workload.Driver` calls in a loop: a few seconds of a person's work (typing at
5-15 keys/s, reading pauses, wheel scrolling, gliding pointer), every choice drawn from
``drv.rng`` so that a seed gives the same session.

* ``build-log``: a maximized xterm: builds and test runs whose output scrolls fast for seconds
  (``compileall``, a CMake-style build, a pytest-style run, ``unittest -v``), ``git log -p``
  of a throwaway repository paged in ``less``, a build log in ``less``, long listings.
* ``editor``: vim in a maximized xterm on copies of stdlib modules: scrolling (j/k held,
  Ctrl-D/U/E, PageDown), searches, lines of code typed in insert mode, ``:w``, splits.
* ``browser-scroll``: Chromium over most of the screen on the local Python docs: wheel bursts,
  PageDown/space, links followed from the library index and the "next" link, Tab-walking
  links, find in page, back and forward.
* ``windows``: three xterms and Chromium dragged around (``windowmove`` in small steps with the
  pointer on the title bar), raised by clicks and Alt+Tab, resized, minimized, typed into.
* ``gtk-dialogs``: ``gtk_dialogs_app.py`` (system ``/usr/bin/python3``): menus opened and
  hovered, dialogs (message, file chooser, preferences, About) opened and closed, entries
  typed into, combo boxes, check buttons, notebook tabs.
* ``animation``: a CI dashboard page in Chromium (spinner, progress bar, ticking clocks, a
  sparkline, a log tail) and ``top`` beside the xterm where the commands are typed.
"""
from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
from pathlib import Path

WIDTH, HEIGHT = 1920, 1080
DOCS = "/usr/share/doc/python3-dev/html"
STDLIB = "/usr/lib/python3.11" if os.path.isdir("/usr/lib/python3.11") else os.path.dirname(os.__file__)
HERE = Path(__file__).resolve().parent
MAXIMIZED = "212x55+0+0"   # an xterm filling the 1920x1080 screen (DejaVu Sans Mono 11: 9x19 px cells)
TITLEBAR = 10            # openbox: windowmove places the frame; its title bar is ~20 px high

SCENARIOS = ("build-log", "editor", "browser-scroll", "windows", "gtk-dialogs", "animation")


# -- helpers -----------------------------------------------------------------------------------
def key(drv, *keys: str, lo: float = 0.15, hi: float = 0.6) -> None:
    for k in keys:
        drv.xdo("key", k)
        drv.pause(lo, hi)


def hold(drv, k: str, n: int, delay: int = 45) -> None:
    """``k`` held down: the keyboard's autorepeat (about 22 presses a second)."""
    drv.xdo("key", "--repeat", str(n), "--delay", str(delay), k)


def wheel(drv, down: bool = True, n: int = 3) -> None:
    drv.xdo("click", "--repeat", str(n), "--delay", "70", "5" if down else "4")


def shell(drv, text: str, lo: float, hi: float) -> None:
    """Type a shell command, run it and wait about as long as it runs (and a bit to read)."""
    drv.command(text)
    drv.pause(lo, hi)


def copy_stdlib(dest: Path, *names: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = Path(STDLIB) / name
        if src.is_dir():
            shutil.copytree(src, dest / src.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / src.name)


def xterm_running(desk, geometry: str, title: str, *command: str) -> str:
    desk.spawn(["xterm", "-fa", "DejaVu Sans Mono", "-fs", "11", "-geometry", geometry, "-title", title,
                "-bg", "#1e1e1e", "-fg", "#d4d4d4", "-e", *command])
    return desk.wait_window("--name", f"^{title}$")


def place(desk, wid: str, x: int, y: int, w: int, h: int) -> None:
    desk.run("xdotool", "windowsize", wid, str(w), str(h))
    desk.run("xdotool", "windowmove", wid, str(x), str(y))


def root_background(desk, rgb: int = 0x2E3440) -> None:
    """Paint the desktop (the root window) a solid colour, as ``xsetroot -solid`` would (Xlib via ctypes)."""
    import ctypes
    import ctypes.util
    x11 = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XSetWindowBackground.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    x11.XClearWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(desk.display.encode())
    if not dpy:
        return
    root = x11.XDefaultRootWindow(dpy)
    x11.XSetWindowBackground(dpy, root, rgb)  # a 24-bit TrueColor screen: the pixel is 0xRRGGBB
    x11.XClearWindow(dpy, root)
    x11.XCloseDisplay(dpy)


def focus_event(drv, name: str) -> None:
    x, y, w, h = drv.state.get("geo", {}).get(name, (0, 0, WIDTH, HEIGHT))
    drv.events.put(("focus", {"t": [drv.now()], "app": [name], "title": [name], "window": [int(drv.windows[name])],
                              "x": [x], "y": [y], "width": [w], "height": [h]}))


def activate(drv, name: str) -> None:
    drv.xdo("windowactivate", "--sync", drv.windows[name])
    focus_event(drv, name)


def less_keys(drv, pages: int) -> None:
    """Read a file in ``less``: pages, lines held, back, a search; then quit."""
    for _ in range(pages):
        r = drv.rng.random()
        if r < 0.35:
            drv.xdo("key", "space")
        elif r < 0.6:
            hold(drv, "Down", drv.rng.randint(5, 30))
        elif r < 0.7:
            drv.xdo("key", "b")
        elif r < 0.8:
            drv.xdo("key", drv.rng.choice(["d", "u"]))
        elif r < 0.9:
            drv.type("/" + drv.rng.choice(["def ", "return", "import", "self", "class", "error"]))
            drv.xdo("key", "Return")
            drv.pause(0.5, 1.2)
            drv.xdo("key", "n")
        else:
            drv.xdo("key", drv.rng.choice(["G", "g"]))
        drv.pause(0.4, 1.8)
    drv.xdo("key", "q")


# -- build-log ---------------------------------------------------------------------------------
FAKE_BUILD = r'''import random, sys, time
rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
fast = "--fast" in sys.argv
mods = {"core": "arena buffer config error hash list log map memory pool queue str time utf8",
        "net": "addr conn dns http1 http2 proxy resolver socket tls url",
        "codec": "bitio delta entropy huffman lz77 palette rle tiles zigzag",
        "ui": "canvas event font layout menu render theme widget window",
        "app": "cli main options session store"}
units = [(m, f) for m, fs in mods.items() for f in fs.split()]
print("-- The C compiler identification is GNU 12.2.0\n-- Detecting C compiler ABI info - done")
print("-- Found ZLIB: /usr/lib/x86_64-linux-gnu/libz.so (found version \"1.2.13\")")
print("-- Configuring done\n-- Generating done\n-- Build files have been written to: /home/dev/proj/build")
for i, (m, f) in enumerate(units):
    print(f"[{100 * (i + 1) // (len(units) + 6):3d}%] \033[32mBuilding C object src/{m}/CMakeFiles/{m}.dir/{f}.c.o\033[0m")
    if rng.random() < 0.1:
        line, col = rng.randint(20, 900), rng.randint(5, 30)
        var = rng.choice(["flags", "len", "tmp", "offset", "ret", "count"])
        print(f"\033[1m/home/dev/proj/src/{m}/{f}.c:{line}:{col}:\033[0m \033[1;35mwarning:\033[0m "
              f"unused variable \033[1m'{var}'\033[0m [\033[1;35m-Wunused-variable\033[0m]")
        print(f"  {line} |     int {var} = 0;\n      |         \033[1;35m^~~~~\033[0m")
    if f == mods[m].split()[-1]:
        print(f"[{100 * (i + 1) // (len(units) + 6):3d}%] \033[1;32mLinking C static library lib{m}.a\033[0m")
        print(f"[{100 * (i + 1) // (len(units) + 6):3d}%] Built target {m}")
    sys.stdout.flush()
    fast or time.sleep(rng.uniform(0.02, 0.16))
print("[100%] \033[1;32mLinking C executable tilecodec\033[0m\n[100%] Built target tilecodec")
'''
FAKE_TESTS = r'''import random, sys, time
rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
fast = "--fast" in sys.argv
files = {"tests/test_codec.py": ["roundtrip", "empty_frame", "palette", "tiles_damage", "seek", "truncated"],
         "tests/test_events.py": ["keys", "pointer", "focus", "ordering", "clock_skew"],
         "tests/test_shard.py": ["write_read", "append", "index", "corrupt_tail", "metadata", "compact"],
         "tests/test_cli.py": ["record_help", "inspect", "export_png", "demo", "stats"],
         "tests/test_tiles.py": ["split", "merge", "hash_stable", "scroll_detect", "copy_rect", "dirty_map"]}
params = ["bgra-0", "bgra-1", "rgb-0", "gray-0", "small", "large", "1080p", "4k"]
cases = [(f, t + (f"[{p}]" if rng.random() < 0.6 else "")) for f, ts in files.items() for t in ts
         for p in rng.sample(params, rng.randint(3, 8))]
print("\033[1m============================= test session starts ==============================\033[0m")
print("platform linux -- Python 3.11.2, pytest-7.2.1, pluggy-1.0.0 -- /usr/bin/python3")
print(f"rootdir: /home/dev/proj\ncollected {len(cases)} items\n")
counts = {"passed": 0, "skipped": 0, "failed": 0}
failed = []
for i, (f, t) in enumerate(cases):
    r = rng.random()
    word, colour = ("FAILED", 31) if r < 0.01 else ("SKIPPED", 33) if r < 0.05 else ("PASSED", 32)
    counts[{"FAILED": "failed", "SKIPPED": "skipped", "PASSED": "passed"}[word]] += 1
    if word == "FAILED":
        failed.append(f"{f}::test_{t}")
    print(f"{f}::test_{t} \033[{colour}m{word}\033[0m".ljust(80) + f"[{100 * (i + 1) // len(cases):3d}%]")
    sys.stdout.flush()
    fast or time.sleep(rng.uniform(0.005, 0.06) if rng.random() < 0.95 else rng.uniform(0.3, 0.8))
for name in failed:
    print(f"\033[31m________________________ {name.split('::')[1]} ________________________\033[0m\n")
    print("    def test_case(frame):\n        out = codec.decode(codec.encode(frame))\n>       assert out == frame")
    print("\033[31mE       AssertionError: frames differ at tile (12, 7)\033[0m\n")
summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
print(f"\033[{31 if failed else 32}m======================= {summary} in {rng.uniform(4, 9):.2f}s =======================\033[0m")
'''
BUILD_COMMANDS = [  # (command, seconds to wait: it runs, then it is read)
    ("python3 -m compileall -f ~/src/json ~/src/email ~/src/http", (3, 6)),
    ("python3 -m compileall -f ~/src", (6, 10)),
    ("python3 ~/tools/build.py {n}", (9, 13)),
    ("make -C ~/proj", (2, 4)),
    ("python3 ~/tools/tests.py {n}", (9, 14)),
    ("python3 -m unittest -v test.test_json", (3, 6)),
    ("python3 -m unittest -v test.test_textwrap test.test_shlex test.test_fnmatch", (2, 4)),
    ("find /usr/lib/python3.11 -name '*.py' | head -400", (2, 4)),
    ("ls -lR ~/src/email | head -250", (2, 4)),
    ("grep -rn --include='*.py' 'def ' ~/src/json ~/src/http | head -300", (2, 4)),
    ("git -C ~/proj log --oneline --graph --decorate | head -40", (2, 4)),
    ("git -C ~/proj log --stat | head -150", (2, 4)),
    ("clear", (0.5, 1.5)),
]
BUILD_PAGERS = ["git -C ~/proj log -p", "git -C ~/proj log -p", "less ~/logs/build.log", "less -R ~/logs/tests.log",
                "git -C ~/proj show HEAD~{n}", "less ~/src/email/message.py"]
RENAMES = [("text", "source_text"), ("result", "out"), ("line", "row"), ("chunks", "pieces"), ("pat", "pattern"),
           ("token", "word"), ("names", "entries"), ("value", "val"), ("index", "pos"), ("width", "columns")]
SNIPPETS = [
    ["def clamp(value, lo, hi):", '    """Return value limited to [lo, hi]."""', "    return max(lo, min(hi, value))"],
    ["def chunked(items, size):", "    for i in range(0, len(items), size):", "        yield items[i:i + size]"],
    ["def is_blank(line):", "    return not line.strip()"],
    ["def first(iterable, default=None):", "    for item in iterable:", "        return item", "    return default"],
    ["def count_words(text):", "    counts = {}", "    for word in text.split():",
     "        counts[word] = counts.get(word, 0) + 1", "    return counts"],
    ["def parse_pair(s, sep='='):", "    key, _, value = s.partition(sep)", "    return key.strip(), value.strip()"],
]


def make_repo(home: Path) -> None:
    """A throwaway git repository whose history has 30 commits of plausible edits."""
    repo = home / "proj"
    copy_stdlib(repo / "lib", "textwrap.py", "shlex.py", "fnmatch.py", "glob.py", "bisect.py", "heapq.py",
                "colorsys.py", "json/decoder.py", "json/encoder.py", "json/scanner.py")
    (repo / "Makefile").write_text("all:\n\tpython3 ../tools/build.py 7 --fast\n")
    rng = random.Random(1)
    authors = [("Ada Lovelace", "ada@example.org"), ("Alan Turing", "alan@example.org"),
               ("Grace Hopper", "grace@example.org")]

    def git(*args, when=0, who=0):
        name, mail = authors[who]
        date = f"2024-03-{1 + when // 24:02d}T{when % 24:02d}:{17 + when % 40:02d}:00"
        env = dict(os.environ, HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=mail,
                   GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=mail, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "Import the helper modules")
    files = sorted((repo / "lib").glob("*.py"))
    for i in range(30):
        path = rng.choice(files)
        lines = path.read_text().splitlines(keepends=True)
        kind = rng.choice(["doc", "rename", "delete", "add", "add"])
        if kind == "doc":
            defs = [n for n, s in enumerate(lines) if s.lstrip().startswith("def ")] or [0]
            at = rng.choice(defs)
            pad = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
            lines[at:at] = [f"{pad}# {rng.choice(['Hot path', 'Called once per item', 'Keep in sync with docs'])}: "
                            f"{rng.choice(['see issue', 'measured in', 'reviewed in'])} #{rng.randint(100, 999)}\n"]
            msg = f"{path.stem}: comment {lines[at + 1].split('(')[0].split()[-1]}()"
        elif kind == "rename" and any(f" {old} " in s for s in lines for old, _ in RENAMES):
            old, new = rng.choice([(o, n) for o, n in RENAMES if any(f" {o} " in s for s in lines)])
            lines = [s.replace(f" {old} ", f" {new} ").replace(f"({old})", f"({new})") for s in lines]
            msg = f"{path.stem}: rename {old} to {new}"
        elif kind == "delete":
            at = rng.randrange(10, max(11, len(lines) - 10))
            del lines[at:at + rng.randint(3, 8)]
            msg = f"{path.stem}: drop dead code near line {at}"
        else:
            snippet = rng.choice(SNIPPETS)
            lines += ["\n", "\n", *(s + "\n" for s in snippet)]
            msg = f"{path.stem}: add {snippet[0][4:].split('(')[0]}()"
        path.write_text("".join(lines))
        git("commit", "-q", "-am", msg + f"\n\n{rng.choice(['Needed by the exporter.', 'Review feedback.', 'Cleanup.'])}",
            when=6 + i * 17, who=i % 3)


def setup_build_log(desk) -> dict:
    home = Path(desk.home)
    copy_stdlib(home / "src", "json", "email", "http", "xml", "logging", "urllib", "concurrent", "asyncio")
    tools, logs = home / "tools", home / "logs"
    tools.mkdir()
    logs.mkdir()
    (tools / "build.py").write_text(FAKE_BUILD)
    (tools / "tests.py").write_text(FAKE_TESTS)
    for name, script in (("build.log", FAKE_BUILD), ("tests.log", FAKE_TESTS)):
        out = subprocess.run(["python3", "-c", script, "3", "--fast"], capture_output=True, text=True).stdout
        (logs / name).write_text(out * (3 if name == "build.log" else 1))
    make_repo(home)
    desk.env["LESS"] = "-R"  # git's pager stays open on a short diff too (git's default is -FRX)
    return {"terminal": desk.xterm(MAXIMIZED, "terminal")}


def step_build_log(drv) -> None:
    rng = drv.rng
    if rng.random() < 0.3:
        drv.command(rng.choice(BUILD_PAGERS).format(n=rng.randint(1, 12)))
        drv.pause(0.8, 1.5)
        less_keys(drv, rng.randint(4, 12))
        drv.pause(0.5, 1.5)
        return
    text, wait = rng.choice(BUILD_COMMANDS)
    shell(drv, text.format(n=rng.randint(1, 99)), *wait)


# -- editor ------------------------------------------------------------------------------------
VIMRC = """set nocompatible
syntax on
set background=dark t_Co=256
set number ruler showcmd laststatus=2 hlsearch incsearch scrolloff=3
set noautoindent nosmartindent nocindent indentexpr= noswapfile nobackup
set expandtab shiftwidth=4 softtabstop=4
"""
EDIT_FILES = ["textwrap.py", "shlex.py", "configparser.py", "argparse.py"]
SEARCH_WORDS = ["def ", "return", "self", "raise", "width", "import", "class ", "None", "while", "token", "section"]
CODE = SNIPPETS + [
    ["    # the caller owns the buffer; copy before mutating"],
    ["def _debug(*args):", "    if DEBUG:", "        print('debug:', *args, file=sys.stderr)"],
    ["    if not text:", "        return []"],
    ["class Span:", '    """A half-open range [start, end)."""', "    def __init__(self, start, end):",
     "        self.start, self.end = start, end"],
]


def setup_editor(desk) -> dict:
    home = Path(desk.home)
    copy_stdlib(home / "project", *EDIT_FILES)
    (home / ".vimrc").write_text(VIMRC)
    return {"terminal": desk.xterm(MAXIMIZED, "terminal")}


def step_editor(drv) -> None:
    rng, state = drv.rng, drv.state
    if not state.get("vim"):
        drv.command(f"vim ~/project/{EDIT_FILES[0]}")
        drv.pause(1.5, 2.5)
        state["vim"] = True
        return
    r = rng.random()
    if r < 0.35:  # move around: lines held, half pages, pages, jumps
        for _ in range(rng.randint(2, 6)):
            kind = rng.random()
            if kind < 0.35:
                hold(drv, rng.choice("jjjk"), rng.randint(8, 40), delay=rng.choice([35, 50, 70]))
            elif kind < 0.6:
                key(drv, *[rng.choice(["ctrl+d", "ctrl+d", "ctrl+u"])] * rng.randint(1, 3), lo=0.3, hi=1.0)
            elif kind < 0.75:
                hold(drv, rng.choice(["ctrl+e", "ctrl+e", "ctrl+y"]), rng.randint(5, 20), delay=90)
            elif kind < 0.9:
                key(drv, *[rng.choice(["Next", "Prior", "Next"])] * rng.randint(1, 3), lo=0.4, hi=1.2)
            else:
                jump = rng.choice(["gg", "G", f":{rng.randint(20, 500)}"])
                drv.type(jump)
                if jump.startswith(":"):
                    drv.xdo("key", "Return")
            drv.pause(0.5, 2.0)
    elif r < 0.5:  # search
        drv.type("/" + rng.choice(SEARCH_WORDS))
        drv.xdo("key", "Return")
        drv.pause(0.6, 1.5)
        key(drv, *["n"] * rng.randint(1, 5), lo=0.4, hi=1.5)
        if rng.random() < 0.3:
            drv.type(":noh")
            drv.xdo("key", "Return")
    elif r < 0.78:  # write some code
        drv.type(f":{rng.randint(15, 300)}")
        drv.xdo("key", "Return")
        drv.pause(0.5, 1.5)
        drv.type(rng.choice("oO"))
        for line in rng.choice(CODE):
            drv.type(line)
            drv.xdo("key", "Return")
            drv.pause(0.2, 0.9)
        drv.xdo("key", "Escape")
        drv.pause(0.8, 2.0)
        drv.type(":w")
        drv.xdo("key", "Return")
        drv.pause(0.8, 1.5)
    elif r < 0.88:  # small edits, some undone
        for _ in range(rng.randint(1, 3)):
            drv.type(rng.choice(["dd", "x", "cwvalue", ">>", "yyp", "A  # TODO"]))
            drv.xdo("key", "Escape")
            drv.pause(0.4, 1.2)
        if rng.random() < 0.6:
            key(drv, "u", "u", lo=0.3, hi=0.8)
    elif r < 0.96:  # another file
        drv.type(f":e ~/project/{rng.choice(EDIT_FILES)}" if rng.random() < 0.7 else ":b#")
        drv.xdo("key", "Return")
        drv.pause(1.0, 2.0)
    else:  # a split for a while, or back to one window
        drv.type(":only" if state.get("split") else f":vsplit ~/project/{rng.choice(EDIT_FILES)}")
        drv.xdo("key", "Return")
        state["split"] = not state.get("split")
        drv.pause(1.0, 2.0)
        if state["split"]:
            hold(drv, "j", rng.randint(10, 30))
            key(drv, "ctrl+w", "w")


# -- browser-scroll ----------------------------------------------------------------------------
HUBS = ["library/index.html", "tutorial/index.html", "reference/index.html", "howto/index.html",
        "library/index.html"]
LONG_PAGES = ["library/stdtypes.html", "library/functions.html", "reference/datamodel.html", "library/os.html",
              "library/re.html", "howto/logging-cookbook.html", "library/argparse.html", "tutorial/classes.html",
              "library/asyncio-task.html", "reference/expressions.html", "library/unittest.html"]
FIND_WORDS = ["iterator", "default", "exception", "return", "bytes", "format", "Changed in version"]
BROWSER = (40, 10, 1800, 1040)
NEXT_LINK = (1649, 125)     # the "next" link of the docs' top bar at BROWSER's size
LINK_COLUMN = (352, 392)    # x where the index pages' link lists are dense


def setup_browser_scroll(desk) -> dict:
    return {"browser": desk.chromium(f"file://{DOCS}/{HUBS[0]}", *BROWSER)}


def open_url(drv, page: str) -> None:
    drv.xdo("key", "ctrl+l")
    drv.pause(0.3, 0.7)
    (drv.type_with_typo if drv.rng.random() < 0.3 else drv.type)(f"file://{DOCS}/{page}")
    drv.xdo("key", "Return")
    drv.pause(1.2, 2.5)


def read_page(drv, bursts: int) -> None:
    for _ in range(bursts):
        if drv.rng.random() < 0.3:
            drv.glide(drv.rng.randint(300, 1500), drv.rng.randint(200, 950))
        wheel(drv, drv.rng.random() < 0.85, drv.rng.randint(1, 6))
        drv.pause(0.4, 2.2)


def step_browser_scroll(drv) -> None:
    rng = drv.rng
    r = rng.random()
    if r < 0.35:
        read_page(drv, rng.randint(3, 9))
    elif r < 0.5:
        for _ in range(rng.randint(2, 6)):
            k = rng.choice(["Next", "Next", "space", "shift+space", "Prior", "Down", "End", "Home"])
            hold(drv, k, rng.randint(3, 12), delay=60) if k == "Down" else drv.xdo("key", k)
            drv.pause(0.6, 2.0)
    elif r < 0.66:  # follow a link from an index page, read, go back
        open_url(drv, rng.choice(HUBS))
        wheel(drv, True, rng.randint(0, 12))
        drv.pause(0.8, 1.5)
        drv.click_at(rng.randint(*LINK_COLUMN), rng.randint(300, 1000))
        drv.pause(1.5, 2.5)
        read_page(drv, rng.randint(2, 5))
        if rng.random() < 0.6:
            drv.xdo("key", "alt+Left")
            drv.pause(1.0, 2.0)
    elif r < 0.76:  # the "next" link at the top of the page
        drv.xdo("key", "Home")
        drv.pause(0.6, 1.2)
        drv.click_at(*NEXT_LINK)
        drv.pause(1.5, 2.5)
        read_page(drv, rng.randint(1, 4))
    elif r < 0.82:  # walk the links with Tab, follow one
        for _ in range(rng.randint(3, 15)):
            drv.xdo("key", "Tab")
            drv.pause(0.1, 0.4)
        drv.xdo("key", "Return")
        drv.pause(1.5, 2.5)
    elif r < 0.9:  # find in page
        drv.xdo("key", "ctrl+f")
        drv.pause(0.4, 0.8)
        drv.type(rng.choice(FIND_WORDS))
        key(drv, *["Return"] * rng.randint(1, 4), lo=0.6, hi=1.5)
        drv.xdo("key", "Escape")
        drv.pause(0.5, 1.0)
    elif r < 0.96:
        open_url(drv, rng.choice(LONG_PAGES))
    else:
        key(drv, "alt+Left", *(["alt+Right"] if rng.random() < 0.5 else []), lo=1.0, hi=2.0)


# -- windows -----------------------------------------------------------------------------------
WINDOW_LAYOUT = {"browser": (620, 40, 1200, 800), "shell": (60, 60, 900, 560), "logs": (700, 520, 760, 420),
                 "notes": (180, 640, 640, 340)}
QUICK_COMMANDS = ["ls -la", "date", "uptime", "ls /usr/lib/python3.11 | head -30", "cat /etc/os-release",
                  "python3 -c 'print(sum(range(100)))'", "echo build finished", "wc -l /usr/lib/python3.11/*.py | tail -5",
                  "df -h /", "date +%A", "free -m", "ls ~"]


def setup_windows(desk) -> dict:
    root_background(desk)
    wins = {"browser": desk.chromium(f"file://{DOCS}/library/functions.html", *WINDOW_LAYOUT["browser"])}
    for name in ("shell", "logs", "notes"):
        wins[name] = desk.xterm("80x24+0+0", name)
        place(desk, wins[name], *WINDOW_LAYOUT[name])
    desk.run("xdotool", "windowactivate", "--sync", wins["shell"])
    return wins


def grab_point(name: str, geo) -> tuple[int, int]:
    x, y, w, _ = geo
    return (x + w - 300, y + 15) if name == "browser" else (x + w // 2, y + TITLEBAR)


def step_windows(drv) -> None:
    rng, state = drv.rng, drv.state
    geo = state.setdefault("geo", dict(WINDOW_LAYOUT))
    state.setdefault("active", "shell")
    name = rng.choice(sorted(geo))
    r = rng.random()
    if r < 0.3:  # drag a window by its title bar for 0.5-1.5 s
        x, y, w, h = geo[name]
        gx, gy = grab_point(name, geo[name])
        drv.glide(gx, gy)
        drv.xdo("windowactivate", "--sync", drv.windows[name])
        nx = min(max(rng.randint(-200, WIDTH - w // 2), -w // 3), WIDTH - 200)
        ny = min(max(rng.randint(0, HEIGHT - 200), 0), HEIGHT - 120)
        steps = rng.randint(12, 35)
        for i in range(1, steps + 1):
            f = 0.5 - 0.5 * math.cos(math.pi * i / steps)
            px, py = int(x + (nx - x) * f), int(y + (ny - y) * f)
            drv.xdo("windowmove", drv.windows[name], str(px), str(py))
            drv.xdo("mousemove", str(px + gx - x), str(py + gy - y))
            drv.stop.wait(0.04)
        geo[name] = (nx, ny, w, h)
        state["active"] = name
        focus_event(drv, name)
    elif r < 0.45:  # Alt+Tab through the windows
        drv.xdo("keydown", "alt")
        for _ in range(rng.randint(1, 3)):
            drv.xdo("key", "Tab")
            drv.pause(0.3, 0.8)
        drv.xdo("keyup", "alt")
        active = drv.desk.run("xdotool", "getactivewindow")
        state["active"] = next((n for n, w in drv.windows.items() if w == active), state["active"])
        focus_event(drv, state["active"])
    elif r < 0.6:  # click a title bar: raise and focus
        drv.click_at(*grab_point(name, geo[name]))
        activate(drv, name)
        state["active"] = name
    elif r < 0.68:  # resize by the bottom-right corner
        x, y, w, h = geo[name]
        nw, nh = rng.randint(500, 1300), rng.randint(300, 800)
        drv.glide(x + w, y + h + 2 * TITLEBAR)
        activate(drv, name)
        steps = rng.randint(10, 25)
        for i in range(1, steps + 1):
            cw, ch = w + (nw - w) * i // steps, h + (nh - h) * i // steps
            drv.xdo("windowsize", drv.windows[name], str(cw), str(ch))
            drv.xdo("mousemove", str(x + cw), str(y + ch + 2 * TITLEBAR))
            drv.stop.wait(0.05)
        geo[name] = (x, y, nw, nh)
        state["active"] = name
    elif r < 0.93:  # work in the active window
        name = state["active"]
        if name == "browser":
            x, y, w, h = geo[name]
            drv.glide(x + w // 2, y + h // 2)
            for _ in range(rng.randint(2, 5)):
                wheel(drv, rng.random() < 0.8, rng.randint(1, 5))
                drv.pause(0.4, 1.5)
        else:
            shell(drv, rng.choice(QUICK_COMMANDS), 1.0, 2.5)
    else:  # minimize a window for a while, then bring it back
        drv.xdo("windowminimize", drv.windows[name])
        drv.pause(1.5, 4)
        activate(drv, name)
        state["active"] = name
    drv.pause(0.5, 2.0)


# -- gtk-dialogs -------------------------------------------------------------------------------
GTK_PYTHON = "/usr/bin/python3"
DIALOGS = ("msg", "file", "prefs", "about")
MENU_DIALOGS = {"Open": "file", "Preferences": "prefs", "About": "about", "Print": "msg", "Delete Record": "msg"}
ENTRY_TEXT = {"name": ["Marie Curie", "Hedy Lamarr", "Tim Berners-Lee"], "email": ["marie@example.org", "sales@example.com"],
              "phone": ["+33 4 72 10 20 30", "+44 20 7946 0000"], "company": ["Radium Works", "Frequency Hopping Ltd"],
              "street": ["12 avenue Foch", "4 Privet Drive"], "city": ["Grenoble", "Oxford"], "postcode": ["38000", "OX1 2JD"],
              "region": ["Isère", "Oxfordshire"], "iban": ["FR76 3000 6000 0112 3456 7890 189"], "vat": ["FR 40 303 265 045"],
              "reference": ["PO-2025-0413"], "contact": ["Accounts payable"], "search": ["knuth", "lyon", "ho", "ada"]}


def setup_gtk_dialogs(desk) -> dict:
    root_background(desk)
    home = Path(desk.home)
    records = home / "records"
    (records / "archive").mkdir(parents=True)
    (records / "exports").mkdir()
    for i, name in enumerate(["contacts-2024.csv", "contacts-2025.csv", "leads-spring.vcf", "invoices-q1.csv",
                              "invoices-q2.csv", "partners.vcf", "notes.txt", "archive/contacts-2019.csv",
                              "archive/contacts-2020.csv", "exports/mailing.csv"]):
        (records / name).write_text("id,name,email\n" + "".join(f"{1000 + k},Person {k},p{k}@example.org\n"
                                                               for k in range(40 * (i + 1))))
    layout = home / "gtk-layout.json"
    check = subprocess.run([GTK_PYTHON, "-c", "import gi; gi.require_version('Gtk', '3.0')"], capture_output=True)
    if check.returncode:
        raise SystemExit("gtk-dialogs needs /usr/bin/python3 with python3-gi and gir1.2-gtk-3.0")
    desk.spawn(["env", "NO_AT_BRIDGE=1", GTK_PYTHON, str(HERE / "gtk_dialogs_app.py"), "--layout", str(layout),
                "--records-dir", str(records)])
    desk.gtk_layout = str(layout)
    return {"app": desk.wait_window("--name", "^Customer Records$")}


def widgets(drv) -> dict:
    drv.stop.wait(0.35)   # the app rewrites its layout every 250 ms
    try:
        return json.loads(Path(drv.desk.gtk_layout).read_text())
    except (OSError, ValueError):
        return {}


def point(drv, name: str, layout: dict | None = None) -> bool:
    """Glide to and click the widget ``name``; False when it is not on screen."""
    rect = (layout or widgets(drv)).get(name)
    if not rect:
        return False
    x, y, w, h = rect
    drv.click_at(x + int(w * drv.rng.uniform(0.3, 0.7)), y + int(h * drv.rng.uniform(0.3, 0.7)))
    return True


def hover(drv, name: str, layout: dict) -> None:
    x, y, w, h = layout[name]
    drv.glide(x + int(w * drv.rng.uniform(0.2, 0.6)), y + h // 2)
    drv.pause(0.3, 0.9)


def fill(drv, entry: str) -> None:
    if point(drv, f"entry:{entry}"):
        drv.pause(0.2, 0.6)
        drv.xdo("key", "ctrl+a")
        drv.pause(0.2, 0.5)
        (drv.type_with_typo if drv.rng.random() < 0.4 else drv.type)(drv.rng.choice(ENTRY_TEXT[entry]))
        drv.pause(0.4, 1.0)


def close_dialogs(drv) -> None:
    for _ in range(4):
        layout = widgets(drv)
        if not any(k in layout for k in DIALOGS) and not any(k.startswith("item:") for k in layout):
            return
        drv.xdo("key", "Escape")
        drv.pause(0.3, 0.6)


def answer(drv, prefix: str, choices: list[str]) -> None:
    """Look over a dialog's buttons and press one (or Escape)."""
    layout = widgets(drv)
    buttons = [k for k in layout if k.startswith(prefix + ":") and k.split(":")[1] in choices + ["Cancel"]]
    for b in drv.rng.sample(buttons, min(len(buttons), 2)):
        hover(drv, b, layout)
    if buttons and drv.rng.random() < 0.8:
        point(drv, prefix + ":" + drv.rng.choice(choices), layout)
    else:
        drv.xdo("key", "Escape")
    drv.pause(0.6, 1.2)


def step_gtk_dialogs(drv) -> None:
    rng = drv.rng
    close_dialogs(drv)
    layout = widgets(drv)
    r = rng.random()
    if r < 0.2:  # browse the menus
        menus = [k for k in layout if k.startswith("menu:")]
        if not point(drv, rng.choice(menus), layout):
            return
        for _ in range(rng.randint(1, 3)):
            layout = widgets(drv)
            items = [k for k in layout if k.startswith("item:")]
            for item in sorted(rng.sample(items, min(len(items), rng.randint(2, 5))), key=lambda k: layout[k][1]):
                hover(drv, item, layout)
            if rng.random() < 0.5:
                hover(drv, rng.choice(menus), layout)   # slides over to the next menu
        opens = [k for k in items if k.split("/")[-1] in MENU_DIALOGS]
        if opens and rng.random() < 0.5:
            item = rng.choice(opens)
            point(drv, item, layout)
            drv.pause(1.0, 2.0)
            answer(drv, MENU_DIALOGS[item.split("/")[-1]], ["Cancel", "No", "OK"])
        else:
            key(drv, "Escape", "Escape", lo=0.2, hi=0.5)
    elif r < 0.42:  # pick a record, edit fields
        point(drv, f"row:{rng.randint(0, 11)}", layout)
        drv.pause(0.8, 1.8)
        entries = [k.split(":")[1] for k in widgets(drv) if k.startswith("entry:") and k != "entry:search"]
        for entry in rng.sample(entries, min(len(entries), rng.randint(1, 3))):
            fill(drv, entry)
        if rng.random() < 0.5:
            checks = [k for k in widgets(drv) if k.startswith(("check:", "radio:"))]
            point(drv, rng.choice(checks)) if checks else None
    elif r < 0.5:  # a combo box
        combos = [k for k in layout if k.startswith("combo:")]
        if combos and point(drv, rng.choice(combos), layout):
            drv.pause(0.6, 1.2)
            key(drv, *[rng.choice(["Down", "Up"])] * rng.randint(1, 3), lo=0.3, hi=0.7)
            drv.xdo("key", rng.choice(["Return", "Return", "Escape"]))
    elif r < 0.6:  # other tabs, search the list
        point(drv, rng.choice([k for k in layout if k.startswith("tab:")]), layout)
        drv.pause(0.8, 1.6)
        if rng.random() < 0.5:
            fill(drv, "search")
            drv.pause(1.0, 2.0)
            drv.xdo("key", "ctrl+a")
            drv.xdo("key", "BackSpace")
    elif r < 0.73:  # a message dialog
        if rng.random() < 0.3:
            key(drv, "ctrl+s")
        else:
            point(drv, rng.choice(["button:Send Reminder", "button:Save", "tool:Save"]), layout)
        drv.pause(1.0, 2.5)
        answer(drv, "msg", ["Yes", "No", "Cancel"])
    elif r < 0.83:  # the file chooser
        if rng.random() < 0.3:
            key(drv, "ctrl+o")
        else:
            point(drv, rng.choice(["tool:Open", "button:Import"]), layout)
        drv.pause(1.5, 2.5)
        key(drv, *[rng.choice(["Down", "Down", "Up"]) for _ in range(rng.randint(2, 6))], lo=0.3, hi=0.8)
        if rng.random() < 0.4:
            drv.type(rng.choice(["con", "inv", "arch"]))
            drv.pause(0.8, 1.5)
        answer(drv, "file", ["Cancel", "Open"])
    elif r < 0.94:  # preferences: tabs, switches, an entry, OK or Cancel
        point(drv, rng.choice(["button:Preferences", "tool:Preferences"]), layout)
        drv.pause(1.0, 2.0)
        for _ in range(rng.randint(1, 3)):
            layout = widgets(drv)
            tabs = [k for k in layout if k.startswith("prefs:tab:")]
            if not tabs:
                break
            point(drv, rng.choice(tabs), layout)
            drv.pause(0.6, 1.2)
            fields = [k for k in widgets(drv) if k.startswith("prefs:") and "/" in k]
            for field in rng.sample(fields, min(len(fields), 2)):
                point(drv, field)
                if "name" in field or "server" in field:
                    drv.xdo("key", "ctrl+a")
                    drv.type(rng.choice(["Sam Operator", "Dana Scully", "https://sync.example.net"]))
                elif "(" in field:
                    hold(drv, "Up", rng.randint(1, 5), delay=150)
                drv.pause(0.4, 1.0)
        answer(drv, "prefs", ["OK", "Cancel"])
    else:  # About
        point(drv, rng.choice(["tool:About", "button:About"]), layout)
        drv.pause(2.0, 4.0)
        drv.xdo("key", "Escape")
    drv.pause(0.5, 1.5)


# -- animation ---------------------------------------------------------------------------------
DASHBOARD = """<!doctype html><html><head><meta charset="utf-8"><title>CI · pipeline #4821</title><style>
body{font:14px 'DejaVu Sans',sans-serif;margin:0;background:#f6f8fa;color:#24292f}
header{background:#24292f;color:#fff;padding:10px 18px;font-weight:bold}
main{padding:14px 18px} .row{display:flex;align-items:center;gap:12px;margin:6px 0}
.spin{width:28px;height:28px;border:4px solid #d0d7de;border-top-color:#0969da;border-radius:50%;
animation:spin 0.9s linear infinite} @keyframes spin{to{transform:rotate(360deg)}}
.bar{width:560px;height:16px;background:#d0d7de;border-radius:8px;overflow:hidden}
.fill{height:100%;width:0;background:linear-gradient(90deg,#2da44e,#4ac26b)}
.ok{color:#1a7f37} .run{color:#0969da;font-weight:bold} .wait{color:#8c959f}
#log{font:12px 'DejaVu Sans Mono',monospace;background:#0d1117;color:#c9d1d9;height:132px;overflow:hidden;
padding:6px 10px;margin-top:10px;white-space:pre} canvas{background:#fff;border:1px solid #d0d7de}
</style></head><body><header>tilecodec / main · pipeline #4821 <span id="clock" style="float:right"></span></header>
<main><div class="row"><span class="ok">&#10004; build (3m 12s)</span><span class="ok">&#10004; lint (41s)</span>
<span class="ok">&#10004; unit tests (2m 5s)</span><span class="wait">&#9711; deploy</span></div>
<div class="row"><div class="spin"></div><span class="run" id="job">integration tests</span>
<span id="elapsed">00:00</span></div><div class="row"><div class="bar"><div class="fill" id="fill"></div></div>
<span id="pct">0%</span></div><div class="row"><canvas id="cpu" width="300" height="60"></canvas>
<span>runner CPU <b id="load">0%</b></span></div><div id="log"></div></main><script>
let seed=4821;function rnd(){seed=(seed*1103515245+12345)%2147483648;return seed/2147483648}
const jobs=["integration tests","benchmarks","package wheels","upload artifacts"];let j=0,p=0,t0=Date.now(),pts=[];
const names=["test_roundtrip","test_seek","test_palette","test_damage","test_export","test_merge","test_resume"];
function pad(n){return String(n).padStart(2,"0")}
setInterval(()=>{p+=0.25+rnd()*0.5;if(p>=100){p=0;j=(j+1)%jobs.length;job.textContent=jobs[j];t0=Date.now()}
fill.style.width=p+"%";pct.textContent=Math.floor(p)+"%"},100);
setInterval(()=>{const d=new Date(),s=Math.floor((Date.now()-t0)/1000);
clock.textContent=pad(d.getHours())+":"+pad(d.getMinutes())+":"+pad(d.getSeconds());
elapsed.textContent=pad(Math.floor(s/60))+":"+pad(s%60)},1000);
setInterval(()=>{pts.push(20+rnd()*70);if(pts.length>60)pts.shift();const c=cpu.getContext("2d");
c.clearRect(0,0,300,60);c.beginPath();pts.forEach((v,i)=>c.lineTo(i*5,60-v*0.6));c.strokeStyle="#0969da";c.stroke();
load.textContent=Math.round(pts[pts.length-1])+"%"},500);
setInterval(()=>{const n=names[Math.floor(rnd()*names.length)];
log.textContent=(log.textContent+"\\n"+jobs[j].split(" ")[0]+"::"+n+"["+Math.floor(rnd()*64)+"] PASSED ("
+(rnd()*2).toFixed(2)+"s)").split("\\n").slice(-9).join("\\n")},1300);
</script></body></html>
"""
ANIMATION_COMMANDS = QUICK_COMMANDS + ["grep -n 'def ' /usr/lib/python3.11/json/decoder.py",
                                       "seq 1 60 | paste - - - - - - | column -t", "head -40 /usr/lib/python3.11/glob.py",
                                       "clear"]


def setup_animation(desk) -> dict:
    root_background(desk)
    page = Path(desk.home) / "dashboard.html"
    page.write_text(DASHBOARD)
    wins = {"browser": desk.chromium(f"file://{page}", 990, 0, 930, 620),
            "top": xterm_running(desk, "102x20+990+648", "top", "top", "-d", "1"),
            "terminal": desk.xterm("108x53+0+0", "terminal")}
    desk.run("xdotool", "windowactivate", "--sync", wins["terminal"])
    return wins


def step_animation(drv) -> None:
    rng = drv.rng
    r = rng.random()
    if r < 0.75:
        shell(drv, rng.choice(ANIMATION_COMMANDS), 1.5, 4)
    elif r < 0.87:
        drv.command(f"less {STDLIB}/{rng.choice(['argparse.py', 'textwrap.py', 'shlex.py'])}")
        drv.pause(1, 2)
        less_keys(drv, rng.randint(3, 8))
        drv.pause(0.5, 1.5)
    else:  # a look at the dashboard, then back to the terminal
        drv.glide(rng.randint(1100, 1800), rng.randint(200, 550))
        drv.pause(2, 5)
        drv.glide(rng.randint(100, 900), rng.randint(200, 900))
        drv.pause(0.5, 1.0)


SETUPS = {"build-log": setup_build_log, "editor": setup_editor, "browser-scroll": setup_browser_scroll,
          "windows": setup_windows, "gtk-dialogs": setup_gtk_dialogs, "animation": setup_animation}
STEPS = {"build-log": step_build_log, "editor": step_editor, "browser-scroll": step_browser_scroll,
         "windows": step_windows, "gtk-dialogs": step_gtk_dialogs, "animation": step_animation}
