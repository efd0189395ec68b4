"""A small GTK 3 window for the AT-SPI tests: run with the distro's python3 (python3-gi, gir1.2-gtk-3.0).

A menu bar File > Open / Save As... / Quit, a labelled button "Press Me", a password entry
labelled "Password:" and a plain entry labelled "Notes:". The app uses GObject; the recorder
never does (it talks to the accessibility bus with jeepney). It prints "ready" once its window
is shown and one line per action ("clicked", "save-as"), so a test knows the input arrived, and
where its widgets are, in root-window pixels, independently of the accessibility bus:
``at NAME x y width height`` for the button, the entries and, once the menu is shown, its items.
"""
import sys


def where(name: str, widget) -> None:
    """Print ``at NAME x y width height`` (root-window pixels) of a realized widget."""
    origin = widget.get_toplevel().get_window().get_origin()
    x, y = widget.translate_coordinates(widget.get_toplevel(), 0, 0)
    alloc = widget.get_allocation()
    print(f"at {name} {origin[1] + x} {origin[2] + y} {alloc.width} {alloc.height}", flush=True)


def main(title: str = "Encoder A11y Test") -> None:
    import gi   # here, not at the top: pytest's doctest collection imports this file without GTK
    gi.require_version("Gtk", "3.0")
    from gi.repository import GLib, Gtk
    GLib.set_prgname("encoder-a11y-test")
    GLib.set_application_name("encoder-a11y-test")
    win = Gtk.Window(title=title)
    win.set_default_size(420, 260)
    win.move(40, 40)
    win.connect("destroy", Gtk.main_quit)
    box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
    widgets = {}
    win.add(box)

    bar = Gtk.MenuBar()
    file_item = Gtk.MenuItem.new_with_mnemonic("_File")
    menu = Gtk.Menu()
    for label, said in (("Open", "open"), ("Save As...", "save-as"), ("Quit", "quit")):
        item = Gtk.MenuItem(label=label)
        item.connect("activate", lambda _w, s=said: print(s, flush=True))
        menu.append(item)
    menu.connect("map", lambda m: GLib.idle_add(
        lambda: [where(i.get_label(), i) for i in m.get_children()] and False))
    file_item.set_submenu(menu)
    bar.append(file_item)
    box.pack_start(bar, False, False, 0)

    widgets["File"] = file_item
    button = Gtk.Button(label="Press Me")
    widgets["button"] = button
    button.connect("clicked", lambda _w: print("clicked", flush=True))
    box.pack_start(button, False, False, 0)

    for text, secret in (("_Password:", True), ("_Notes:", False)):
        row = Gtk.Box(spacing=6)
        label = Gtk.Label.new_with_mnemonic(text)
        entry = Gtk.Entry()
        entry.set_visibility(not secret)
        entry.set_name("password" if secret else "notes")
        widgets[entry.get_name()] = entry
        label.set_mnemonic_widget(entry)
        row.pack_start(label, False, False, 0)
        row.pack_start(entry, True, True, 0)
        box.pack_start(row, False, False, 0)

    win.show_all()

    def ready():
        for name, widget in widgets.items():
            where(name, widget)
        print("ready", flush=True)
        return False
    GLib.timeout_add(300, ready)
    Gtk.main()


if __name__ == "__main__":
    main(*sys.argv[1:2])
