"""docs/actions.md, "Keys": typing bursts, keys, hotkeys, lone taps, auto-repeat, timing-only
rows and the typing features, scenario by scenario."""
import pytest

from actions.scenario import CONTROL, MOD1, MOD4, SHIFT, backend, check, derive, key, tap  # noqa: F401
from encoder.actions import Rules

A, B, C, E, H, L, O, P = (ord(c) for c in "abcehlop")
BACKSPACE, RETURN, TAB, ISO_LEFT_TAB, DOWN, F4 = 0xff08, 0xff0d, 0xff09, 0xfe20, 0xff54, 0xffc1
SHIFT_L, CONTROL_L, ALT_L, SUPER_L, ALTGR = 0xffe1, 0xffe3, 0xffe9, 0xffeb, 0xfe03


def typed(*codes, start=0, every=100_000, dwell=50_000, modifiers=0):
    """Taps of ``codes``, one every ``every`` us from ``start``."""
    return [row for i, code in enumerate(codes) for row in tap(start + i * every, code, modifiers, dwell)]


def summary(rows):
    return [(r["kind"], r["text"], r["count"]) for r in rows]


# --- Typing bursts ---------------------------------------------------------------------------------

def test_typing_burst_with_a_backspace_correction(backend):
    rows = derive(backend, keys=typed(H, E, L, P, BACKSPACE, L, O))
    assert len(rows) == 1
    check(rows[0], kind="type", t=0, t_end=650_000, text="hello", count=7, frame=-1, app=None,
          hesitation_us=0, dwell_us=50_000, flight_us=50_000, keys_per_s=10.0)


def test_backspace_at_the_start_of_a_burst_is_a_key(backend):
    rows = derive(backend, keys=typed(BACKSPACE, A))
    assert summary(rows) == [("key", "backspace", 1), ("type", "a", 1)]
    check(rows[0], kind="key", t=0, t_end=50_000, text="backspace", count=1)
    check(rows[1], kind="type", t=100_000, t_end=150_000, text="a", count=1, hesitation_us=50_000,
          dwell_us=50_000, flight_us=None, keys_per_s=None)


def test_backspace_with_nothing_left_to_delete_ends_the_burst(backend):
    rows = derive(backend, keys=typed(A, BACKSPACE, BACKSPACE, BACKSPACE))
    assert summary(rows) == [("type", "", 2), ("key", "backspace", 2)]
    check(rows[0], kind="type", t=0, t_end=150_000, dwell_us=50_000, flight_us=50_000, keys_per_s=10.0)
    check(rows[1], kind="key", t=200_000, t_end=350_000)


def test_shift_backspace_outside_a_burst_is_a_hotkey(backend):
    rows = derive(backend, keys=tap(0, BACKSPACE, SHIFT))
    assert summary(rows) == [("hotkey", "shift+backspace", 1)]
    rows = derive(backend, keys=typed(A, B) + tap(200_000, BACKSPACE, SHIFT))
    assert summary(rows) == [("type", "a", 3)]


@pytest.mark.parametrize("code, name", [(RETURN, "enter"), (TAB, "tab"), (0xff1b, "esc"), (0xffff, "delete")])
def test_named_keys_end_a_burst(backend, code, name):
    rows = derive(backend, keys=typed(A, B, code, C))
    assert summary(rows) == [("type", "ab", 2), ("key", name, 1), ("type", "c", 1)]
    check(rows[1], t=200_000, t_end=250_000)


def test_type_gap_splits_bursts(backend):
    assert summary(derive(backend, keys=typed(A, B, every=2_000_000))) == [("type", "ab", 2)]
    assert summary(derive(backend, keys=typed(A, B, every=2_000_001))) == [("type", "a", 1), ("type", "b", 1)]
    rules = Rules(type_gap_us=500_000)
    assert summary(derive(backend, rules=rules, keys=typed(A, B, every=600_000))) == [("type", "a", 1),
                                                                                    ("type", "b", 1)]


@pytest.mark.parametrize("between", [
    {"button": [(150_000, 1, True, 0, 0), (160_000, 1, False, 0, 0)]},
    {"scroll": [(150_000, 0, 1, 0, 0)]},
    {"command": [(150_000, "ls")]},
    {"focus": [(0, 1, "a", "a"), (150_000, 2, "b", "b")]},
])
def test_typing_interruptions(backend, between):
    rows = [r for r in derive(backend, keys=typed(A, B, C), **between) if r["kind"] == "type"]
    assert summary(rows) == [("type", "ab", 2), ("type", "c", 1)]


@pytest.mark.parametrize("between", [
    {"pointer": [(150_000, 5, 5), (160_000, 50, 50)]},
    {"focus": [(0, 1, "a", "a"), (150_000, 1, "a", "new title")]},
    {"keys": tap(130_000, SHIFT_L, dwell=10_000) + tap(160_000, CONTROL_L, dwell=10_000)},
    {"keys": [key(150_000, ord("x"), False)]},
])
def test_not_typing_interruptions(backend, between):
    keys = typed(A, B, C) + between.pop("keys", [])
    assert summary(derive(backend, keys=keys, **between)) == [("type", "abc", 3)]


# --- What a press is ----------------------------------------------------------------------------------

def test_hotkeys(backend):
    # ctrl, then shift, then T (keysym 'T': shift is down), released in reverse
    keys = [key(0, CONTROL_L), key(10_000, SHIFT_L, modifiers=CONTROL),
            key(20_000, ord("T"), modifiers=CONTROL | SHIFT), key(70_000, ord("T"), False, CONTROL | SHIFT), key(100_000, SHIFT_L, False, CONTROL | SHIFT),
            key(110_000, CONTROL_L, False, CONTROL)]
    rows = derive(backend, keys=keys)
    assert len(rows) == 1
    check(rows[0], kind="hotkey", t=20_000, t_end=70_000, text="ctrl+shift+t", count=1, hesitation_us=20_000)
    rows = derive(backend, keys=[key(0, SHIFT_L)] + tap(20_000, ISO_LEFT_TAB, SHIFT) + [key(90_000, SHIFT_L, False)])
    assert summary(rows) == [("hotkey", "shift+tab", 1)]
    rows = derive(backend, keys=[key(0, ALT_L)] + tap(20_000, F4, MOD1) + [key(90_000, ALT_L, False)])
    assert summary(rows) == [("hotkey", "alt+f4", 1)]
    rows = derive(backend, keys=[key(0, SUPER_L)] + tap(20_000, E, MOD4) + [key(90_000, SUPER_L, False)])
    assert summary(rows) == [("hotkey", "win+e", 1)]
    assert summary(derive(backend, keys=tap(0, A, CONTROL | MOD1 | SHIFT | MOD4))) == [
        ("hotkey", "ctrl+alt+shift+win+a", 1)]


def test_lock_numlock_and_altgr_do_not_make_hotkeys(backend):
    assert summary(derive(backend, keys=tap(0, A, 0x2 | 0x10 | 0x80))) == [("type", "a", 1)]
    assert summary(derive(backend, keys=tap(0, 0x40, 0x80, text="@"))) == [("type", "@", 1)]


def test_a_hotkey_ends_a_burst(backend):
    rows = derive(backend, keys=typed(A) + tap(100_000, C, CONTROL) + tap(200_000, B))
    assert summary(rows) == [("type", "a", 1), ("hotkey", "ctrl+c", 1), ("type", "b", 1)]


def test_shift_and_a_letter_types_the_capital(backend):
    keys = [key(0, SHIFT_L)] + tap(20_000, ord("A"), SHIFT) + [key(90_000, SHIFT_L, False)] + tap(100_000, B)
    rows = derive(backend, keys=keys)
    assert summary(rows) == [("type", "Ab", 2)]
    check(rows[0], t=20_000, t_end=150_000)


def test_lone_taps_of_win_and_alt(backend):
    rows = derive(backend, keys=tap(100_000, SUPER_L, dwell=80_000))
    assert len(rows) == 1
    check(rows[0], kind="key", t=100_000, t_end=180_000, text="win", count=1, hesitation_us=0)
    assert summary(derive(backend, keys=tap(0, ALT_L))) == [("key", "alt", 1)]
    for code in (SHIFT_L, CONTROL_L, ALTGR, 0xffe5):  # shift, ctrl, altright, capslock: never
        assert derive(backend, keys=tap(0, code)) == []
    # another key pressed while win is down: not a lone tap
    assert derive(backend, keys=[key(0, SUPER_L), key(10_000, SHIFT_L, modifiers=MOD4), key(20_000, SHIFT_L, False),
                                 key(30_000, SUPER_L, False)]) == []
    # pressed and never released: not a tap
    assert derive(backend, keys=[key(0, SUPER_L)]) == []


def test_a_held_win_or_alt_that_repeats_is_one_tap(backend):
    # pressed again before its release (auto-repeat of a held modifier): one tap, counted per press
    held = [key(0, ALT_L), key(50_000, ALT_L), key(90_000, ALT_L), key(120_000, ALT_L, False)]
    rows = derive(backend, keys=held)
    assert len(rows) == 1
    check(rows[0], kind="key", t=0, t_end=120_000, text="alt", count=3)
    # however long it is held (the repeats' spacing is no type gap), after a stray release
    rows = derive(backend, keys=[key(0, A, False), key(10, SUPER_L), key(3_000_000, SUPER_L), key(3_000_001, SUPER_L,
                                                                                                     False)])
    assert summary(rows) == [("key", "win", 2)] and rows[0]["t"] == 10
    # another key pressed before the last release: no tap at all
    assert derive(backend, keys=held[:3] + tap(100_000, SHIFT_L) + held[3:]) == []
    # a second tap soon after joins it, unless something happened while the first was held
    again = tap(200_000, ALT_L)
    assert summary(derive(backend, keys=held + again)) == [("key", "alt", 4)]
    assert summary(derive(backend, keys=held + again, command=[(60_000, "ls")])) == [
        ("key", "alt", 3), ("command", "ls", 1), ("key", "alt", 1)]


def test_text_column_and_keysym_text(backend):
    assert summary(derive(backend, keys=tap(0, 0xe9, text="é"))) == [("type", "é", 1)]
    assert summary(derive(backend, keys=tap(0, 0xe9))) == [("type", "é", 1)]
    assert summary(derive(backend, keys=tap(0, 0x61, text="ä"))) == [("type", "ä", 1)]   # the text wins
    assert summary(derive(backend, keys=tap(0, 0xffb1))) == [("type", "1", 1)]           # keypad 1
    assert summary(derive(backend, keys=tap(0, 0x20) + tap(100_000, 0xff80))) == [("type", "  ", 2)]  # spaces
    assert summary(derive(backend, keys=tap(0, 0x1008ff13))) == [("key", "volumeup", 1)]
    assert summary(derive(backend, keys=tap(0, 0xfe52))) == [("key", None, 1)]          # a dead key: no name


# --- Auto-repeat ------------------------------------------------------------------------------------

def test_auto_repeat_is_one_key(backend):
    keys = [key(t, DOWN) for t in range(0, 150_000, 30_000)] + [key(150_000, DOWN, False)]
    rows = derive(backend, keys=keys)
    assert len(rows) == 1
    check(rows[0], kind="key", t=0, t_end=150_000, text="down", count=5)
    rows = derive(backend, keys=typed(DOWN, DOWN, DOWN, DOWN, DOWN))
    check(rows[0], kind="key", t=0, t_end=450_000, text="down", count=5)


def test_repeats_within_type_gap_and_without_interruption(backend):
    assert summary(derive(backend, keys=typed(DOWN, DOWN, every=2_000_001))) == [("key", "down", 1)] * 2
    assert summary(derive(backend, keys=typed(DOWN, A, DOWN))) == [("key", "down", 1), ("type", "a", 1),
                                                                  ("key", "down", 1)]
    assert summary(derive(backend, keys=typed(DOWN, DOWN), command=[(60_000, "ls")])) == [
        ("key", "down", 1), ("command", "ls", 1), ("key", "down", 1)]
    assert summary(derive(backend, keys=typed(DOWN, DOWN), pointer=[(60_000, 1, 1)])) == [("key", "down", 2)]
    assert summary(derive(backend, keys=typed(C, C, C, modifiers=CONTROL))) == [("hotkey", "ctrl+c", 3)]
    # a key between two others of another name: three actions
    assert summary(derive(backend, keys=typed(DOWN, 0xff52, DOWN))) == [("key", "down", 1), ("key", "up", 1),
                                                                       ("key", "down", 1)]


# --- Timing-only rows (class codes) --------------------------------------------------------------------

def test_timing_only_letters_type_without_text(backend):
    rows = derive(backend, keys=typed(1, 2, 3, 4, 12))
    assert len(rows) == 1
    check(rows[0], kind="type", t=0, t_end=450_000, text=None, count=5, dwell_us=50_000, flight_us=50_000,
          keys_per_s=10.0)


@pytest.mark.parametrize("code, name", [(8, "enter"), (9, "tab"), (10, "esc"), (6, "<navigation>"),
                                        (11, "<function>"), (15, "<other>")])
def test_timing_only_keys(backend, code, name):
    assert summary(derive(backend, keys=typed(1, code, 1))) == [("type", None, 1), ("key", name, 1),
                                                               ("type", None, 1)]


def test_timing_only_editing_inside_and_outside_a_burst(backend):
    assert summary(derive(backend, keys=typed(1, 1, 7, 1))) == [("type", None, 4)]
    assert summary(derive(backend, keys=typed(7, 1))) == [("key", "<editing>", 1), ("type", None, 1)]
    assert summary(derive(backend, keys=typed(1, 7, every=2_000_001))) == [("type", None, 1),
                                                                          ("key", "<editing>", 1)]


def test_two_keysyms_of_one_name_repeat_as_one_key(backend):
    # found by hypothesis: native told keys apart by keysym, the reference (and the docs) by name
    assert summary(derive(backend, keys=typed(TAB, ISO_LEFT_TAB))) == [("key", "tab", 2)]


def test_a_deleted_unknown_character_leaves_the_text_unknown(backend):
    # found by hypothesis: the native kernels forgot the doubt once BackSpace removed the character
    assert summary(derive(backend, keys=typed(12, BACKSPACE))) == [("type", None, 2)]
    assert summary(derive(backend, keys=typed(A, 12, BACKSPACE))) == [("type", None, 3)]


def test_an_editing_press_types_no_character_a_backspace_could_delete(backend):
    assert summary(derive(backend, keys=typed(A, 7, BACKSPACE, BACKSPACE))) == [("type", None, 3),
                                                                                ("key", "backspace", 1)]


def test_timing_only_modifiers_make_nothing(backend):
    assert derive(backend, keys=typed(5, 5)) == []
    assert summary(derive(backend, keys=typed(1, 5, 1))) == [("type", None, 2)]


# --- Typing features -----------------------------------------------------------------------------------

def test_typing_features(backend):
    keys = [key(0, A), key(80_000, A, False), key(100_000, B), key(220_000, B, False), key(300_000, C),
            key(360_000, C, False)]
    rows = derive(backend, keys=keys)
    # dwell 80, 120, 60 ms -> 80; flight 20, 80 ms -> the lower median, 20; 2 presses over 0.3 s
    check(rows[0], kind="type", text="abc", count=3, t=0, t_end=360_000, dwell_us=80_000, flight_us=20_000,
          keys_per_s=2 / 0.3)


def test_typing_features_with_rollover_and_a_missing_release(backend):
    keys = [key(0, A), key(50_000, B), key(80_000, A, False), key(120_000, B, False)]
    check(derive(backend, keys=keys)[0], text="ab", t_end=120_000, dwell_us=70_000, flight_us=-30_000,
          keys_per_s=20.0)
    keys = [key(0, A), key(50_000, A, False), key(100_000, B)]
    check(derive(backend, keys=keys)[0], text="ab", t_end=100_000, dwell_us=50_000, flight_us=50_000,
          keys_per_s=10.0)
    check(derive(backend, keys=[key(0, A)])[0], text="a", t_end=0, dwell_us=None, flight_us=None, keys_per_s=None)
