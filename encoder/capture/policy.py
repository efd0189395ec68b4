"""The privacy policy of a recording: what may reach the disk, decided before anything is encoded.

A policy says

* how much of each keystroke is kept (``keys``): ``full`` (keysym, modifiers and typed text),
  ``timing-only`` (keysyms replaced by classes such as letter, digit, modifier; timings and
  modifiers kept; no text) or ``none`` (no key rows at all; they are counted);
* which windows are **excluded**, by application (``WM_CLASS``) or title pattern: their screen
  area is black in every frame, input inside them or while they have the focus is dropped,
  and their focus rows carry neither app nor title;
* which windows are **secret** (password prompts, by title or app pattern): whatever the
  ``keys`` mode, keys typed into them keep nothing but their timing (class ``secret``, no
  modifiers, no text);
* how recording is **paused**: a hotkey toggles it, a control file pauses while it exists.

The defaults are the safe choice: ``timing-only`` keys, incognito and private browser windows
and password managers excluded, password-like titles secret. A policy file (TOML or JSON,
format in docs/capture.md) adds to the default patterns unless it sets ``defaults = false``.

Examples
--------
>>> p = Policy.from_mapping({"keys": "full", "exclude": {"titles": ["glob:*bank*"]}})
>>> p.verdict(("xterm", "XTerm"), "bob@box: ~")
'normal'
>>> p.verdict(("firefox", "Firefox"), "My Bank - Mozilla Firefox")
'excluded'
>>> p.verdict(("xterm", "XTerm"), "[sudo] password for bob")
'secret'
>>> p.key_row(0x61, True, 0, "a", "normal"), p.key_row(0x61, True, 0, "a", "secret")
((97, 0, 'a'), (12, 0, None))
"""
from __future__ import annotations

import bisect
import fnmatch
import json
import os
import re
import threading
import dataclasses
from dataclasses import dataclass, field

from ..errors import PolicyError
from ..streams.keys import CLASS_CODE, KEY_CLASSES, SHORTCUT_MODIFIERS, key_class, parse_hotkey

MODES = ("full", "timing-only", "none")
NORMAL, SECRET, EXCLUDED = "normal", "secret", "excluded"
_RANK = {NORMAL: 0, SECRET: 1, EXCLUDED: 2}
POLICY_VERSION = 1

#: Default patterns (regular expressions, searched case-insensitively).
DEFAULT_EXCLUDE_APPS = ("keepass", "1password", "bitwarden", "lastpass", "enpass", "seahorse")
DEFAULT_EXCLUDE_TITLES = ("incognito", "private browsing", "inprivate", r"private window")
DEFAULT_SECRET_APPS = ("pinentry", "askpass", "polkit", "gcr-prompter")
DEFAULT_SECRET_TITLES = ("password|passphrase|passwd|secret|sudo|ssh|pinentry|1password|keepass|bitwarden",)
DEFAULT_HOTKEY = "ctrl+alt+shift+p"
DEFAULT_PAUSE_FILE = "PAUSE"
DEFAULT_GUARD_MS = 250


class Pattern:
    """A window pattern: a regular expression searched case-insensitively, or ``glob:...``.

    ``re:`` may prefix a regular expression explicitly. A glob matches the whole string
    (case-insensitively), a regular expression anywhere in it.

    >>> Pattern("glob:*bank*").search("My Bank"), Pattern("pass(word|phrase)").search("Passphrase:")
    (True, True)
    """

    def __init__(self, text: str):
        if not isinstance(text, str) or not text:
            raise PolicyError(f"a pattern must be a non-empty string, not {text!r}")
        self.text = text
        if text.startswith("glob:"):
            regex = fnmatch.translate(text[5:])
        else:
            regex = text[3:] if text.startswith("re:") else text
        try:
            self._re = re.compile(regex, re.IGNORECASE)
        except re.error as exc:
            raise PolicyError(f"pattern {text!r} is not a valid regular expression: {exc}") from None
        self._glob = text.startswith("glob:")

    def search(self, value: str | None) -> bool:
        if not value:
            return False
        return bool((self._re.match if self._glob else self._re.search)(value))

    def __repr__(self):
        return f"Pattern({self.text!r})"


def _patterns(values, where: str) -> tuple[Pattern, ...]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise PolicyError(f"{where} must be a list of patterns, not {type(values).__name__}")
    return tuple(Pattern(v) for v in values)


@dataclass(frozen=True)
class Policy:
    """The privacy policy in force (immutable; see the module docstring)."""

    keys: str = "timing-only"
    exclude_apps: tuple[Pattern, ...] = field(default_factory=lambda: _patterns(DEFAULT_EXCLUDE_APPS, "apps"))
    exclude_titles: tuple[Pattern, ...] = field(default_factory=lambda: _patterns(DEFAULT_EXCLUDE_TITLES, "titles"))
    secret_apps: tuple[Pattern, ...] = field(default_factory=lambda: _patterns(DEFAULT_SECRET_APPS, "apps"))
    secret_titles: tuple[Pattern, ...] = field(default_factory=lambda: _patterns(DEFAULT_SECRET_TITLES, "titles"))
    guard_ms: int = DEFAULT_GUARD_MS
    hotkey: str | None = DEFAULT_HOTKEY
    pause_file: str | None = DEFAULT_PAUSE_FILE
    start_paused: bool = False
    source: str = "defaults"

    def __post_init__(self):
        if self.keys not in MODES:
            raise PolicyError(f"keys must be one of {list(MODES)}, not {self.keys!r}")
        if isinstance(self.guard_ms, bool) or not isinstance(self.guard_ms, int) or not 0 <= self.guard_ms <= 10_000:
            raise PolicyError(f"guard_ms must be an integer in [0, 10000], not {self.guard_ms!r}")
        if self.hotkey is not None:
            try:
                mask, keysym = parse_hotkey(self.hotkey)
            except ValueError as exc:
                raise PolicyError(str(exc)) from None
            object.__setattr__(self, "_hotkey", (mask, keysym))
        else:
            object.__setattr__(self, "_hotkey", None)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_mapping(cls, data: dict, *, source: str = "<mapping>") -> "Policy":
        """A policy from the parsed file (see docs/capture.md); unknown keys are errors."""
        if not isinstance(data, dict):
            raise PolicyError(f"{source}: a policy is a table/object, not {type(data).__name__}")
        allowed = {"version", "defaults", "keys", "guard_ms", "exclude", "secret", "pause"}
        unknown = sorted(set(data) - allowed)
        if unknown:  # a misspelt key would silently weaken the policy
            raise PolicyError(f"{source}: unknown keys {unknown}; allowed: {sorted(allowed)}")
        version = data.get("version", POLICY_VERSION)
        if version != POLICY_VERSION:
            raise PolicyError(f"{source}: policy version {version!r} is not supported (this recorder reads "
                              f"version {POLICY_VERSION})")
        use_defaults = data.get("defaults", True)
        if not isinstance(use_defaults, bool):
            raise PolicyError(f"{source}: defaults must be true or false")
        kwargs: dict = {"source": source}
        if "keys" in data:
            kwargs["keys"] = data["keys"]
        if "guard_ms" in data:
            kwargs["guard_ms"] = data["guard_ms"]
        for section, defaults in (("exclude", (DEFAULT_EXCLUDE_APPS, DEFAULT_EXCLUDE_TITLES)),
                                  ("secret", (DEFAULT_SECRET_APPS, DEFAULT_SECRET_TITLES))):
            table = data.get(section, {})
            if not isinstance(table, dict) or set(table) - {"apps", "titles"}:
                raise PolicyError(f"{source}: [{section}] holds only 'apps' and 'titles' lists")
            for i, kind in enumerate(("apps", "titles")):
                base = defaults[i] if use_defaults else ()
                kwargs[f"{section}_{kind}"] = _patterns(list(base) + list(
                    _as_list(table.get(kind, []), f"{source}: {section}.{kind}")), f"{section}.{kind}")
        pause = data.get("pause", {})
        if not isinstance(pause, dict) or set(pause) - {"hotkey", "file", "start_paused"}:
            raise PolicyError(f"{source}: [pause] holds only 'hotkey', 'file' and 'start_paused'")
        for option, name in (("hotkey", "hotkey"), ("file", "pause_file")):
            if option in pause:
                value = pause[option]
                if value is not None and value is not False and not isinstance(value, str):
                    raise PolicyError(f"{source}: pause.{option} must be a string or false")
                kwargs[name] = value or None
        if "start_paused" in pause:
            if not isinstance(pause["start_paused"], bool):
                raise PolicyError(f"{source}: pause.start_paused must be true or false")
            kwargs["start_paused"] = pause["start_paused"]
        return cls(**kwargs)

    @classmethod
    def load(cls, path) -> "Policy":
        """Read a policy file: ``.toml`` or ``.json`` (anything else: JSON, then TOML)."""
        path = os.fspath(path)
        with open(path, "rb") as f:
            raw = f.read()
        kind = os.path.splitext(path)[1].lower()
        try:
            if kind == ".toml" or (kind != ".json" and not raw.lstrip().startswith(b"{")):
                data = _toml_loads(raw.decode("utf-8"))
            else:
                data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{path}: not a valid policy file: {exc}") from None
        return cls.from_mapping(data, source=path)

    def replace(self, **changes) -> "Policy":
        """A copy with some fields changed (``--keys`` on the command line, say)."""
        return dataclasses.replace(self, **changes)

    # -- decisions ----------------------------------------------------------------------
    def verdict(self, app_names, title: str | None) -> str:
        """``'excluded'``, ``'secret'`` or ``'normal'`` for a window.

        ``app_names`` are the window's ``WM_CLASS`` strings (instance and class); each
        pattern is tried on every name and on the title.
        """
        names = [a for a in (app_names or ()) if a]
        if any(p.search(a) for p in self.exclude_apps for a in names) or \
                any(p.search(title) for p in self.exclude_titles):
            return EXCLUDED
        if any(p.search(a) for p in self.secret_apps for a in names) or \
                any(p.search(title) for p in self.secret_titles):
            return SECRET
        return NORMAL

    def key_row(self, keysym: int, pressed: bool, modifiers: int, text: str | None, verdict: str):
        """``(code, modifiers, text)`` to store for a key event, or None to store nothing.

        ``verdict`` is that of the window that had the focus (:func:`worst` of those around
        the event's time).
        """
        if verdict == EXCLUDED or self.keys == "none":
            return None
        if verdict == SECRET:
            return CLASS_CODE["secret"], 0, None
        if self.keys == "timing-only":
            return key_class(keysym), modifiers, None
        return keysym, modifiers, (text if pressed else None)

    def is_hotkey(self, keysym: int, state: int) -> bool:
        """Whether a key press of ``keysym`` (unshifted) with modifier ``state`` is the pause hotkey."""
        if self._hotkey is None:
            return False
        mask, hotkey_keysym = self._hotkey
        if 0x41 <= keysym <= 0x5a:
            keysym += 0x20
        return keysym == hotkey_keysym and (state & SHORTCUT_MODIFIERS) == mask

    def pause_path(self, out_dir: str | None) -> str | None:
        """The control file, relative paths resolved against the output folder."""
        if not self.pause_file:
            return None
        path = os.path.expanduser(self.pause_file)
        if not os.path.isabs(path) and out_dir is not None:
            path = os.path.join(out_dir, path)
        return path

    def to_json(self) -> dict:
        """The policy as stored in the shard's metadata (its ``privacy`` entry)."""
        return {
            "version": POLICY_VERSION,
            "keys": self.keys,
            "exclude": {"apps": [p.text for p in self.exclude_apps], "titles": [p.text for p in self.exclude_titles]},
            "secret": {"apps": [p.text for p in self.secret_apps], "titles": [p.text for p in self.secret_titles]},
            "guard_ms": self.guard_ms,
            "pause": {"hotkey": self.hotkey, "file": self.pause_file, "start_paused": self.start_paused},
            "key_classes": {str(k): v for k, v in KEY_CLASSES.items()},
            "key_code": "x11-keysym (codes 1-15: key classes)",
            "excluded_area": "black (all four channels 0)",
            "source": self.source,
        }


def _as_list(value, where: str) -> list:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise PolicyError(f"{where} must be a list of patterns")
    return list(value)


def _toml_loads(text: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise PolicyError("reading a TOML policy needs Python 3.11+ or the 'tomli' package; "
                              "or write the policy as JSON") from None
    return tomllib.loads(text)


def worst(verdicts) -> str:
    """The strictest of several verdicts (excluded > secret > normal)."""
    best = NORMAL
    for v in verdicts:
        if _RANK[v] > _RANK[best]:
            best = v
    return best


class PauseSwitch:
    """Whether recording is paused, and since when: a hotkey toggles it, a file holds it.

    Each change is reported to ``on_change(t_us, paused, by)`` (the recorder writes a
    ``pause`` or ``resume`` marker row). :meth:`paused_at` answers for past times too, so
    events that reach the recorder late are judged by when they happened.

    >>> changes = []
    >>> s = PauseSwitch(lambda t, p, by: changes.append((t, p, by)))
    >>> s.toggle(100, "hotkey"); s.set_file(True, 150); s.toggle(200, "hotkey"); s.set_file(False, 300)
    >>> changes
    [(100, True, 'hotkey'), (300, False, 'file')]
    >>> s.paused_at(99), s.paused_at(100), s.paused_at(250), s.paused_at(300)
    (False, True, True, False)
    """

    def __init__(self, on_change=None, *, start_paused: bool = False, t0: int = -(1 << 62),
                 horizon_us: int = 600_000_000):
        self._lock = threading.Lock()
        self._hotkey = bool(start_paused)
        self._file = False
        self._times = [t0]
        self._states = [self.paused]
        self._on_change = on_change
        self.horizon_us = horizon_us

    @property
    def paused(self) -> bool:
        return self._hotkey or self._file

    def toggle(self, t_us: int, by: str = "hotkey") -> None:
        """The hotkey was pressed at ``t_us``."""
        with self._lock:
            before = self.paused
            self._hotkey = not self._hotkey
            change = self._record(t_us, before)
        self._report(change, by)

    def set_file(self, present: bool, t_us: int) -> None:
        """The control file was seen present or absent at ``t_us``."""
        with self._lock:
            if present == self._file:
                return
            before = self.paused
            self._file = present
            change = self._record(t_us, before)
        self._report(change, "file")

    def _record(self, t_us: int, before: bool):
        now = self.paused
        if now == before:
            return None
        t_us = max(int(t_us), self._times[-1])  # keep the history sorted
        self._times.append(t_us)
        self._states.append(now)
        cut = bisect.bisect_right(self._times, t_us - self.horizon_us) - 1
        if cut > 0:  # forget what no late event can ask about any more (keep one state)
            del self._times[:cut], self._states[:cut]
        return t_us, now

    def _report(self, change, by: str) -> None:
        if change is not None and self._on_change is not None:
            self._on_change(change[0], change[1], by)

    def paused_at(self, t_us: int) -> bool:
        with self._lock:
            i = bisect.bisect_right(self._times, t_us) - 1
            return self._states[max(i, 0)]


PENDING = "pending"


class FieldFocus:
    """When a password field had the keyboard focus: keys typed then are ``secret`` (class 12,
    no text) in every key mode, whatever the window's title says.

    The accessibility source reports each focus change at once, as :data:`PENDING` (the new
    element's role is not known yet), and resolves it when its lookup answers; a pending
    change counts as secret, so a slow or hung application errs on the safe side. Like window
    changes, a key at ``t`` is judged by the strictest state in ``[t - tail, t + guard]``.

    >>> f = FieldFocus(guard_us=100, tail_us=10)
    >>> entry = f.set(1_000, PENDING)
    >>> f.verdict(950), f.verdict(2_000)
    ('secret', 'secret')
    >>> f.resolve(entry, NORMAL); f.verdict(2_000)
    'normal'
    >>> f.resolve(f.set(3_000, PENDING), SECRET); _ = f.set(4_000, NORMAL)
    >>> f.verdict(2_850), f.verdict(3_500), f.verdict(4_005), f.verdict(4_050)
    ('normal', 'secret', 'secret', 'normal')
    """

    def __init__(self, guard_us: int = DEFAULT_GUARD_MS * 1000, tail_us: int = 5_000,
                 horizon_us: int = 120_000_000):
        self.guard_us, self.tail_us, self.horizon_us = int(guard_us), int(tail_us), horizon_us
        self._lock = threading.Lock()
        self._times = [-(1 << 62)]
        self._entries = [[-(1 << 62), NORMAL]]   # [start, state]: mutable, so a lookup can resolve its entry

    def set(self, t_us: int, state: str) -> list:
        """A focus change at ``t_us`` (``NORMAL``, ``SECRET`` or ``PENDING``); returns its entry."""
        with self._lock:
            t_us = max(int(t_us), self._times[-1])
            entry = [t_us, state]
            self._times.append(t_us)
            self._entries.append(entry)
            cut = bisect.bisect_right(self._times, t_us - self.horizon_us) - 1
            if cut > 0:
                del self._times[:cut], self._entries[:cut]
            return entry

    def resolve(self, entry: list, state: str) -> None:
        """What the lookup found for the change ``entry`` (:meth:`set`'s answer)."""
        with self._lock:
            entry[1] = state

    def verdict(self, t_us: int) -> str:
        """``'secret'`` when a password field (or a change not yet resolved) held the focus at
        some moment of ``[t - tail, t + guard]``, else ``'normal'``."""
        with self._lock:
            lo = max(bisect.bisect_right(self._times, t_us - self.tail_us) - 1, 0)
            hi = max(bisect.bisect_right(self._times, t_us + self.guard_us), lo + 1)
            return SECRET if any(e[1] != NORMAL for e in self._entries[lo:hi]) else NORMAL

