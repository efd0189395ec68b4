"""An application that never answers costs no input: a real D-Bus daemon, a fake registry, a hung peer.

Needs ``dbus-daemon`` (apt-get install -y dbus) and jeepney; skipped, with the reason, without them.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time

import pytest

import encoder
from encoder.capture import BUTTON, KEY, POINTER, Policy, Recorder
from encoder.capture.sources.fake import FakeInput, FakeWindows

jeepney = pytest.importorskip("jeepney", reason="needs jeepney (pip install 'hci-encoder[capture]')")
from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal  # noqa: E402
from jeepney.bus_messages import message_bus  # noqa: E402
from jeepney.io.blocking import open_dbus_connection  # noqa: E402

from encoder.capture.sources.atspi import AtspiElements  # noqa: E402
from encoder.capture.sources.atspi_tree import ROOT_PATH  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon (apt-get install dbus)")


@pytest.fixture
def bus_address():
    """A private D-Bus daemon (its address), stopped afterwards."""
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


class FakeRegistry(threading.Thread):
    """``org.a11y.atspi.Registry``: lists one application (``app``), accepts every RegisterEvent."""

    def __init__(self, address: str, app: str):
        super().__init__(daemon=True)
        self.conn = open_dbus_connection(address)
        self.conn.send_and_get_reply(message_bus.RequestName("org.a11y.atspi.Registry"))
        self.app, self.stop = app, False

    def run(self):
        while not self.stop:
            try:
                msg = self.conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            if msg.header.message_type is not MessageType.method_call:
                continue
            method = msg.header.fields[HeaderFields.member]
            if method == "GetChildren" and msg.header.fields[HeaderFields.path] == ROOT_PATH:
                reply = new_method_return(msg, "a(so)", ([(self.app, ROOT_PATH)],))
            elif method == "RegisterEvent":
                reply = new_method_return(msg)
            else:
                reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (method,))
            self.conn.send(reply)


def test_a_hung_application_costs_no_input(tmp_path, bus_address):
    hung = open_dbus_connection(bus_address)        # answers nothing, ever (never reads)
    registry = FakeRegistry(bus_address, hung.unique_name)
    registry.start()
    inp, win = FakeInput(), FakeWindows()
    src = AtspiElements(bus_address=bus_address, timeout=0.2)
    rec = Recorder(tmp_path / "out", sources=[win, inp, src], policy=Policy(keys="full"), stats_seconds=3600)
    rec.start()
    try:
        assert src.describe()["available"], src.describe()
        # the hung application says one of its fields got the focus: the lookup can never finish
        focused = new_signal(DBusAddress("/org/a11y/atspi/accessible/5", interface="org.a11y.atspi.Event.Object"),
                             "StateChanged", "siiva{sv}", ("focused", 1, 0, ("i", 0), {}))
        deadline = time.monotonic() + 5
        while src.stats()["events"] < 1 and time.monotonic() < deadline:
            hung.send(focused)    # again every 0.5 s: one run in three of the whole suite lost the first one
            end = time.monotonic() + 0.5
            while src.stats()["events"] < 1 and time.monotonic() < end:
                time.sleep(0.01)
        assert src.stats()["events"] >= 1, f"the focus signal did not arrive ({src.bus.signals} signals)"
        # typed after the signal arrived (a loaded machine may need a second send, 0.5 s on:
        # keys stamped before that would precede the focus change and rightly stay typed)
        spent, t = 0.0, rec.clock() + 10_000
        for batch in range(20):   # 1300 events: 900 moves, 100 clicks (press + release), 100 keys (the same)
            events = []
            for i in range(45):
                events.append((POINTER, t, i, batch))
                t += 100
            for i in range(5):
                events += [(BUTTON, t, 1, True, 5, 5), (BUTTON, t + 50, 1, False, 5, 5),
                           (KEY, t + 60, 0x61, True, 0, "a"), (KEY, t + 70, 0x61, False, 0, None)]
                t += 100
            start = time.perf_counter()
            assert inp.emit(events) == len(events)
            spent += time.perf_counter() - start
    finally:
        rec.stop()
        registry.stop = True
        registry.join(5)
        registry.conn.close()
        hung.close()
    reader = encoder.ShardReader(rec.shards[0])
    assert len(reader.read("pointer")) == 900 and len(reader.read("button")) == 200
    assert len(reader.read("key")) == 200
    assert spent < 0.5, f"handing 1300 events over took {spent:.3f} s"
    stats = src.stats()
    assert stats["timeouts"] >= 1, json.dumps(stats)
    assert stats["clicks_unresolved"] + stats["lookups_dropped"] + stats["lookups_timed_out"] >= 100, json.dumps(stats)
    # the focus change never resolved: the keys typed after it count as typed into a password field
    assert {k["code"] for k in reader.read("key").to_pylist()} == {12}
    final = json.loads([m for m in reader.read("marker").to_pylist() if m["kind"] == "recorder.stats"][-1]["text"])
    assert final["lookup_timeouts"] >= 1 and final["dropped_total"] == 0
