"""AT-SPI elements from a fake tree: names, roles, paths, labels, password fields, hit tests, hung apps."""
from __future__ import annotations

import pytest

from encoder.capture.sources.atspi_tree import (NULL_PATH, ROOT_PATH, STATE_ACTIVE, STATE_SHOWING, ElementReader,
                                                fake_call)

APP = ":1.7"
FOREVER = float("inf")


def gedit_tree():
    """gedit: a frame with a menu bar (File > Save As...), an unnamed filler, a button and a password entry."""
    return {
        (APP, ROOT_PATH): ("application", "gedit", None, (0, 0, 0, 0)),
        (APP, "/frame"): ("frame", "Untitled 1", (APP, ROOT_PATH), (10, 10, 500, 400),
                          (1 << STATE_SHOWING) | (1 << STATE_ACTIVE)),
        (APP, "/filler"): ("filler", "", (APP, "/frame"), (10, 10, 500, 400)),
        (APP, "/bar"): ("menu bar", "", (APP, "/filler"), (10, 10, 500, 25)),
        (APP, "/file"): ("menu", "File", (APP, "/bar"), (10, 10, 40, 25)),
        (APP, "/saveas"): ("menu item", "Save As...", (APP, "/file"), (10, 60, 120, 25)),
        (APP, "/ok"): ("push button", "OK", (APP, "/filler"), (10, 40, 80, 30)),
        (APP, "/label"): ("label", "Passphrase:", (APP, "/filler"), (10, 80, 60, 30)),
        (APP, "/pw"): ("password text", "", (APP, "/filler"), (80, 80, 200, 30), 1 << STATE_SHOWING,
                       (APP, "/label")),
    }


def test_path_joins_the_app_and_named_ancestors():
    reader = ElementReader(fake_call(gedit_tree()))
    e = reader.describe((APP, "/saveas"), FOREVER)
    assert (e.role, e.name, e.app) == ("menu item", "Save As...", "gedit")
    assert e.path == "gedit > Untitled 1 > File > Save As..."     # the unnamed filler and menu bar are left out
    assert e.ancestors == ("gedit", "Untitled 1", "File")
    assert e.extents == (10, 60, 120, 25) and not e.password


def test_an_unnamed_entry_takes_its_labels_name_and_password_fields_are_known():
    e = ElementReader(fake_call(gedit_tree())).describe((APP, "/pw"), FOREVER)
    assert (e.role, e.name, e.password) == ("password text", "Passphrase:", True)
    assert e.path == "gedit > Untitled 1 > Passphrase:"


def test_get_all_refused_falls_back_to_get():
    inner = fake_call(gedit_tree())
    asked = []

    def call(bus, path, interface, method, signature, body, timeout):
        asked.append(method)
        if method == "GetAll":
            raise ValueError("org.freedesktop.DBus.Error.UnknownMethod")
        return inner(bus, path, interface, method, signature, body, timeout)

    reader = ElementReader(call)
    assert reader.describe((APP, "/ok"), FOREVER).path == "gedit > Untitled 1 > OK"
    assert asked.count("GetAll") == 1      # asked once per application, then Get only
    assert reader.describe((APP, "/ok"), FOREVER).name == "OK" and asked.count("GetAll") == 1


def test_long_names_are_cut_and_cycles_end():
    tree = gedit_tree()
    tree[(APP, "/ok")] = ("push button", "x" * 1000, (APP, "/loop"), (0, 0, 1, 1))
    tree[(APP, "/loop")] = ("panel", "loop", (APP, "/loop2"), (0, 0, 1, 1))
    tree[(APP, "/loop2")] = ("panel", "", (APP, "/loop"), (0, 0, 1, 1))
    e = ElementReader(fake_call(tree), max_name=50).describe((APP, "/ok"), FOREVER)
    assert len(e.name) == 50 and e.name.endswith("...")
    assert e.path == "gedit > loop > " + e.name


def test_at_point_descends_to_the_deepest_object():
    reader = ElementReader(fake_call(gedit_tree()))
    assert reader.at_point((APP, "/frame"), 20, 50, FOREVER) == (APP, "/ok")
    assert reader.at_point((APP, "/frame"), 100, 90, FOREVER) == (APP, "/pw")
    assert reader.at_point((APP, "/frame"), 400, 300, FOREVER) == (APP, "/filler")   # nothing deeper there
    assert reader.applications(FOREVER) == [(APP, ROOT_PATH)]
    assert reader.children((APP, ROOT_PATH), FOREVER) == [(APP, "/frame")]
    assert reader.states((APP, "/frame"), FOREVER) >> STATE_ACTIVE & 1


def test_a_hung_application_is_skipped_after_one_timeout():
    now = [100.0]
    reader = ElementReader(fake_call(gedit_tree(), hang=frozenset({APP})), hold_s=10, clock=lambda: now[0])
    with pytest.raises(TimeoutError):
        reader.describe((APP, "/ok"), deadline=now[0] + 0.2)
    with pytest.raises(TimeoutError):
        reader.role_name((APP, "/ok"), deadline=now[0] + 0.2)
    assert reader.counters["timeouts"] == 1 and reader.counters["skipped"] == 1
    now[0] += 11      # the hold is over: asked again
    with pytest.raises(TimeoutError):
        reader.role_name((APP, "/ok"), deadline=now[0] + 0.2)
    assert reader.counters["timeouts"] == 2


def test_a_spent_deadline_stops_a_lookup():
    reader = ElementReader(fake_call(gedit_tree()))
    with pytest.raises(TimeoutError):
        reader.describe((APP, "/ok"), deadline=0.0)
    assert reader.counters["calls"] == 0


def test_null_paths_end_the_walk():
    tree = gedit_tree()
    tree[(APP, "/orphan")] = ("push button", "Lost", ("", NULL_PATH), (0, 0, 5, 5))
    e = ElementReader(fake_call(tree)).describe((APP, "/orphan"), FOREVER)
    assert e.path == "gedit > Lost"
