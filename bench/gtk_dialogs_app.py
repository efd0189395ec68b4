"""A dialog-heavy GTK 3 application for the ``gtk-dialogs`` scenario of ``desktop_workload.py``.

A customer-records form: a menubar (File/Edit/View/Help), a toolbar, a list of records, a
notebook of form pages (entries, combo boxes, check and radio buttons, a spin button, a scale,
a text view), and buttons that open dialogs: a message dialog, a file chooser, a preferences
dialog and an About dialog.

Runs with the system interpreter (``/usr/bin/python3``, Debian's ``python3-gi`` and
``gir1.2-gtk-3.0``), not a virtual environment's. ``--layout FILE``: every 250 ms the screen
rectangles of the named widgets now mapped (menus, items, buttons, entries, tabs, dialog
buttons) are written to FILE as JSON ``{name: [x, y, w, h]}``, so that the driver can point at
them like a person instead of guessing coordinates::

    /usr/bin/python3 bench/gtk_dialogs_app.py --layout /tmp/layout.json --records-dir ~/records
"""
import argparse
import json
import os
import random

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402

TITLE = "Customer Records"
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis",
         "Radia", "Niklaus", "Sophie", "John", "Katherine", "Leslie", "Hedy", "Tim", "Annie", "Linus"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton",
        "Ritchie", "Perlman", "Wirth", "Wilson", "McCarthy", "Johnson", "Lamport", "Lamarr", "Berners-Lee"]
CITIES = ["Lyon", "Porto", "Gdansk", "Leeds", "Turin", "Ghent", "Bergen", "Brno", "Cork", "Graz"]
STATUSES = ["Lead", "Prospect", "Customer", "Partner", "Former customer"]
COUNTRIES = ["France", "Portugal", "Poland", "United Kingdom", "Italy", "Belgium", "Norway", "Czechia",
             "Ireland", "Austria"]
MENUS = {
    "File": [("_New Record", "<Control>n", "new"), ("_Open…", "<Control>o", "open"),
             ("_Save", "<Control>s", "save"), ("Save _As…", "<Shift><Control>s", "open"), None,
             ("_Export…", None, "open"), ("_Print…", "<Control>p", "message"), None, ("_Quit", None, "message")],
    "Edit": [("_Undo", "<Control>z", None), ("_Redo", "<Shift><Control>z", None), None,
             ("Cu_t", "<Control>x", None), ("_Copy", "<Control>c", None), ("_Paste", "<Control>v", None), None,
             ("_Delete Record", "Delete", "message"), None, ("Pr_eferences…", "<Control>comma", "prefs")],
    "View": [("_Toolbar", None, "check"), ("_Status Bar", None, "check"), None, ("Zoom _In", "<Control>plus", None),
             ("Zoom _Out", "<Control>minus", None), ("_Normal Size", "<Control>0", None), None,
             ("_Compact List", None, "check")],
    "Help": [("_Contents", "F1", "message"), ("_Keyboard Shortcuts", None, "message"), None, ("_About", None, "about")],
}


def make_records(n=24, seed=7):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        k = rng.randrange(len(CITIES))
        out.append({"name": f"{first} {last}", "email": f"{first.lower()}.{last.lower()}@example.org",
                    "phone": f"+33 {rng.randint(1, 9)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                             f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                    "company": rng.choice(["Analytical Engines", "Compiler Works", "Bletchley Data",
                                           "Semaphore Ltd", "Abstract Types", "TeX Press"]),
                    "city": CITIES[k], "country": k, "street": f"{rng.randint(1, 180)} rue des Lilas",
                    "status": rng.randrange(len(STATUSES)), "discount": rng.randint(0, 30),
                    "newsletter": rng.random() < 0.5, "vip": rng.random() < 0.2, "id": 1000 + i})
    return out


class App:
    def __init__(self, layout, records_dir):
        self.layout, self.records_dir = layout, records_dir
        self.named = {}            # name -> widget, for the layout file
        self.records = make_records()
        self.win = Gtk.Window(title=TITLE)
        self.win.set_default_size(1340, 860)
        self.win.move(280, 90)
        self.win.connect("destroy", Gtk.main_quit)
        self.accel = Gtk.AccelGroup()
        self.win.add_accel_group(self.accel)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
        box.pack_start(self.menubar(), False, False, 0)
        box.pack_start(self.toolbar(), False, False, 0)
        paned = Gtk.Paned()
        paned.pack1(self.record_list(), False, False)
        paned.pack2(self.form(), True, False)
        paned.set_position(300)
        box.pack_start(paned, True, True, 0)
        self.status = Gtk.Statusbar()
        box.pack_start(self.status, False, False, 0)
        self.win.add(box)
        self.win.show_all()
        self.listbox.select_row(self.listbox.get_row_at_index(0))
        self.say("Ready — 24 records loaded")
        if layout:
            GLib.timeout_add(250, self.write_layout)

    def name(self, key, widget):
        self.named[key] = widget
        return widget

    def form_combo(self, grid, row, label, key, items):
        """A labelled combo box of ``items`` on ``row`` of a form grid."""
        grid.attach(Gtk.Label(label=label + ":", xalign=1), 0, row, 1, 1)
        box = self.name(key, Gtk.ComboBoxText())
        for item in items:
            box.append_text(item)
        grid.attach(box, 1, row, 1, 1)
        return box

    def say(self, text):
        self.status.push(0, text)

    # -- the window ----------------------------------------------------------------------------
    def menubar(self):
        bar = Gtk.MenuBar()
        for title, items in MENUS.items():
            top = self.name(f"menu:{title}", Gtk.MenuItem.new_with_mnemonic(f"_{title}"))
            menu = Gtk.Menu()
            menu.set_accel_group(self.accel)
            for item in items:
                if item is None:
                    menu.append(Gtk.SeparatorMenuItem())
                    continue
                label, accel, action = item
                if action == "check":
                    widget = Gtk.CheckMenuItem.new_with_mnemonic(label)
                    widget.set_active(label != "_Compact List")
                else:
                    widget = Gtk.MenuItem.new_with_mnemonic(label)
                    widget.connect("activate", lambda _w, a=action, t=label: self.act(a, t))
                if accel:
                    key, mods = Gtk.accelerator_parse(accel)
                    widget.add_accelerator("activate", self.accel, key, mods, Gtk.AccelFlags.VISIBLE)
                self.name(f"item:{title}/{label.replace('_', '').rstrip('…')}", widget)
                menu.append(widget)
            top.set_submenu(menu)
            bar.append(top)
        return bar

    def toolbar(self):
        bar = Gtk.Toolbar()
        bar.set_style(Gtk.ToolbarStyle.BOTH_HORIZ)
        for item in [("document-new", "New", "new"), ("document-open", "Open", "open"),
                                    ("document-save", "Save", "save"), None, ("edit-cut", "Cut", None),
                                    ("edit-copy", "Copy", None), ("edit-paste", "Paste", None), None,
                                    ("edit-find", "Find", "find"), ("preferences-system", "Preferences", "prefs"),
                                    ("help-about", "About", "about")]:
            if item is None:
                bar.insert(Gtk.SeparatorToolItem(), -1)
                continue
            icon, label, action = item
            button = Gtk.ToolButton(icon_name=icon, label=label)
            button.set_is_important(True)
            button.connect("clicked", lambda _w, a=action, t=label: self.act(a, t))
            bar.insert(self.name(f"tool:{label}", button), -1)
        return bar

    def record_list(self):
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6, margin=8)
        search = self.name("entry:search", Gtk.SearchEntry(placeholder_text="Search records"))
        search.connect("search-changed", self.filter_changed)
        box.pack_start(search, False, False, 0)
        scroller = Gtk.ScrolledWindow(hscrollbar_policy=Gtk.PolicyType.NEVER)
        self.listbox = Gtk.ListBox()
        for i, rec in enumerate(self.records):
            row = Gtk.ListBoxRow()
            inner = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, margin=6)
            name = Gtk.Label(label=rec["name"], xalign=0)
            name.get_style_context().add_class("heading")
            inner.pack_start(name, False, False, 0)
            inner.pack_start(Gtk.Label(label=f"#{rec['id']} · {rec['city']} · {STATUSES[rec['status']]}",
                                       xalign=0, opacity=0.7), False, False, 0)
            row.add(inner)
            row.record = rec
            self.listbox.add(self.name(f"row:{i}", row))
        self.listbox.connect("row-selected", self.row_selected)
        self.listbox.set_filter_func(self.filter_row)
        scroller.add(self.listbox)
        box.pack_start(scroller, True, True, 0)
        return box

    def form(self):
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8, margin=10)
        self.title = Gtk.Label(xalign=0)
        box.pack_start(self.title, False, False, 0)
        self.notebook = Gtk.Notebook()
        self.entries = {}
        for tab, fields in [("General", ["name", "email", "phone", "company"]),
                            ("Address", ["street", "city", "postcode", "region"]),
                            ("Billing", ["iban", "vat", "reference", "contact"])]:
            grid = Gtk.Grid(column_spacing=12, row_spacing=10, margin=16)
            for r, field in enumerate(fields):
                grid.attach(Gtk.Label(label=field.capitalize() + ":", xalign=1), 0, r, 1, 1)
                entry = self.name(f"entry:{field}", Gtk.Entry(hexpand=True))
                self.entries[field] = entry
                grid.attach(entry, 1, r, 2, 1)
            r = len(fields)
            if tab == "General":
                self.status_combo = self.form_combo(grid, r, "Status", "combo:status", STATUSES)
                self.checks = {}
                for c, (key, label) in enumerate([("newsletter", "Newsletter"), ("vip", "VIP customer"),
                                                  ("invoice", "Paper invoices")]):
                    check = self.name(f"check:{key}", Gtk.CheckButton(label=label))
                    self.checks[key] = check
                    grid.attach(check, 1 + c % 2, r + 1 + c // 2, 1, 1)
                grid.attach(Gtk.Label(label="Notes:", xalign=1, yalign=0), 0, r + 3, 1, 1)
                notes = Gtk.TextView(wrap_mode=Gtk.WrapMode.WORD, height_request=150)
                notes.get_buffer().set_text("Met at the spring fair. Prefers e-mail.\nFollow up on the renewal.")
                frame = Gtk.Frame()
                frame.add(self.name("text:notes", notes))
                grid.attach(frame, 1, r + 3, 2, 1)
            elif tab == "Address":
                self.country = self.form_combo(grid, r, "Country", "combo:country", COUNTRIES)
                first = None
                for c, label in enumerate(["Home", "Office", "Post box"]):
                    radio = Gtk.RadioButton.new_with_label_from_widget(first, label)
                    first = first or radio
                    grid.attach(self.name(f"radio:{label}", radio), 1 + c, r + 1, 1, 1)
            else:
                grid.attach(Gtk.Label(label="Discount %:", xalign=1), 0, r, 1, 1)
                self.discount = self.name("spin:discount", Gtk.SpinButton.new_with_range(0, 50, 1))
                grid.attach(self.discount, 1, r, 1, 1)
                grid.attach(Gtk.Label(label="Credit limit:", xalign=1), 0, r + 1, 1, 1)
                scale = self.name("scale:credit", Gtk.Scale.new_with_range(Gtk.Orientation.HORIZONTAL, 0, 20000, 500))
                scale.set_value(5000)
                grid.attach(scale, 1, r + 1, 2, 1)
                self.progress = Gtk.ProgressBar(show_text=True, fraction=0.4, text="Paid 40% of 2025 invoices")
                grid.attach(self.progress, 1, r + 2, 2, 1)
            label = self.name(f"tab:{tab}", Gtk.Label(label=tab))
            self.notebook.append_page(grid, label)
        box.pack_start(self.notebook, True, True, 0)
        buttons = Gtk.Box(spacing=8)
        for label, action in [("Send Reminder…", "message"), ("Import…", "open"), ("Preferences…", "prefs"),
                              ("About", "about"), ("Save", "save")]:
            button = self.name(f"button:{label.rstrip('…')}", Gtk.Button(label=label))
            button.connect("clicked", lambda _w, a=action, t=label: self.act(a, t))
            buttons.pack_end(button, False, False, 0) if label == "Save" else buttons.pack_start(button, False, False, 0)
        box.pack_start(buttons, False, False, 0)
        return box

    # -- behaviour ----------------------------------------------------------------------------
    def row_selected(self, _box, row):
        if row is None:
            return
        rec = row.record
        self.title.set_markup(f"<big><b>{GLib.markup_escape_text(rec['name'])}</b></big>   #{rec['id']}")
        for field in self.entries:
            self.entries[field].set_text(str(rec.get(field, "")))
        self.entries["postcode"].set_text(f"{69000 + rec['id'] % 97:05d}")
        self.entries["reference"].set_text(f"CR-{rec['id']}-{rec['discount']:02d}")
        self.status_combo.set_active(rec["status"])
        self.country.set_active(rec["country"])
        self.checks["newsletter"].set_active(rec["newsletter"])
        self.checks["vip"].set_active(rec["vip"])
        self.discount.set_value(rec["discount"])
        self.progress.set_fraction((rec["id"] % 10) / 10)
        self.progress.set_text(f"Paid {(rec['id'] % 10) * 10}% of 2025 invoices")
        self.say(f"Record #{rec['id']}: {rec['name']}")

    def filter_row(self, row):
        text = self.named["entry:search"].get_text().lower()
        return not text or text in row.record["name"].lower() or text in row.record["city"].lower()

    def filter_changed(self, _entry):
        self.listbox.invalidate_filter()

    def act(self, action, label):
        if action == "message":
            self.message(label)
        elif action == "open":
            self.open_file()
        elif action == "prefs":
            self.preferences()
        elif action == "about":
            self.about()
        elif action == "save":
            self.say(f"Saved record “{self.entries['name'].get_text()}”")
            self.message("Save")
        elif action == "new":
            for entry in self.entries.values():
                entry.set_text("")
            self.title.set_markup("<big><b>New record</b></big>")
            self.say("New record")
        elif action == "find":
            self.named["entry:search"].grab_focus()

    def run_dialog(self, dialog, prefix):
        """Show ``dialog`` modally; its buttons are named ``prefix:<label>`` in the layout."""
        area = dialog.get_action_area() if hasattr(dialog, "get_action_area") else None
        for child in (area.get_children() if area else []):
            if isinstance(child, Gtk.Button) and child.get_label():
                self.name(f"{prefix}:{child.get_label().replace('_', '')}", child)
        self.name(f"{prefix}", dialog)
        response = dialog.run()
        dialog.destroy()
        for key in [k for k in self.named if k == prefix or k.startswith(prefix + ":")]:
            del self.named[key]
        return response

    def message(self, label):
        name = self.entries["name"].get_text() or "this record"
        texts = {"Save": ("Save changes to “%s”?" % name, "Your changes will be lost if you don't save them."),
                 "Send Reminder…": (f"Send a payment reminder to {name}?",
                                    f"An e-mail goes to {self.entries['email'].get_text()} with 2 open invoices."),
                 "_Delete Record": (f"Delete the record of {name}?", "This cannot be undone.")}
        text, secondary = texts.get(label, (f"“{label.replace('_', '').rstrip('…')}” is not available",
                                            "This demo application only shows dialogs."))
        kind = Gtk.MessageType.WARNING if "Delete" in label else Gtk.MessageType.QUESTION
        dialog = Gtk.MessageDialog(transient_for=self.win, modal=True, message_type=kind,
                                   buttons=Gtk.ButtonsType.NONE, text=text)
        dialog.format_secondary_text(secondary)
        dialog.add_buttons("_Cancel", Gtk.ResponseType.CANCEL, "_No", Gtk.ResponseType.NO,
                           "_Yes", Gtk.ResponseType.YES)
        dialog.set_default_response(Gtk.ResponseType.YES)
        response = self.run_dialog(dialog, "msg")
        self.say({Gtk.ResponseType.YES: "Done", Gtk.ResponseType.NO: "Not done"}.get(response, "Cancelled"))

    def open_file(self):
        dialog = Gtk.FileChooserDialog(title="Import Records", transient_for=self.win,
                                       action=Gtk.FileChooserAction.OPEN)
        dialog.add_buttons("_Cancel", Gtk.ResponseType.CANCEL, "_Open", Gtk.ResponseType.OK)
        dialog.set_default_size(900, 620)
        if self.records_dir:
            dialog.set_current_folder(self.records_dir)
        csv = Gtk.FileFilter()
        csv.set_name("Records (*.csv, *.vcf)")
        csv.add_pattern("*.csv")
        csv.add_pattern("*.vcf")
        every = Gtk.FileFilter()
        every.set_name("All files")
        every.add_pattern("*")
        dialog.add_filter(every)
        dialog.add_filter(csv)
        if self.run_dialog(dialog, "file") == Gtk.ResponseType.OK:
            self.say(f"Imported {os.path.basename(dialog.get_filename() or '')}")
        else:
            self.say("Import cancelled")

    def preferences(self):
        dialog = Gtk.Dialog(title="Preferences", transient_for=self.win, modal=True)
        dialog.add_buttons("_Cancel", Gtk.ResponseType.CANCEL, "_OK", Gtk.ResponseType.OK)
        dialog.set_default_size(560, 440)
        book = Gtk.Notebook(margin=10)
        pages = {
            "General": [("Your name", Gtk.Entry(text="Sam Operator")), ("Autosave every (min)",
                        Gtk.SpinButton.new_with_range(1, 60, 1)), ("Open last file at start", Gtk.Switch(active=True)),
                        ("Confirm before deleting", Gtk.Switch(active=True))],
            "Appearance": [("Theme", self.combo(["System", "Light", "Dark", "High contrast"])),
                           ("List font size", Gtk.Scale.new_with_range(Gtk.Orientation.HORIZONTAL, 8, 20, 1)),
                           ("Show avatars", Gtk.CheckButton(active=True)), ("Accent colour", Gtk.ColorButton())],
            "Network": [("Sync server", Gtk.Entry(text="https://sync.example.org")),
                        ("Proxy", self.combo(["None", "System proxy", "Manual"])),
                        ("Timeout (s)", Gtk.SpinButton.new_with_range(1, 120, 1)),
                        ("Use TLS", Gtk.Switch(active=True))],
        }
        for tab, rows in pages.items():
            grid = Gtk.Grid(column_spacing=16, row_spacing=12, margin=16)
            for r, (label, widget) in enumerate(rows):
                grid.attach(Gtk.Label(label=label + ":", xalign=1), 0, r, 1, 1)
                widget.set_halign(Gtk.Align.FILL if isinstance(widget, (Gtk.Entry, Gtk.Scale)) else Gtk.Align.START)
                widget.set_hexpand(isinstance(widget, (Gtk.Entry, Gtk.Scale)))
                grid.attach(self.name(f"prefs:{tab}/{label}", widget), 1, r, 1, 1)
            book.append_page(grid, self.name(f"prefs:tab:{tab}", Gtk.Label(label=tab)))
        dialog.get_content_area().pack_start(book, True, True, 0)
        dialog.show_all()
        response = self.run_dialog(dialog, "prefs")
        for key in [k for k in self.named if k.startswith("prefs:")]:
            del self.named[key]
        self.say("Preferences saved" if response == Gtk.ResponseType.OK else "Preferences unchanged")

    @staticmethod
    def combo(options):
        combo = Gtk.ComboBoxText()
        for o in options:
            combo.append_text(o)
        combo.set_active(0)
        return combo

    def about(self):
        dialog = Gtk.AboutDialog(transient_for=self.win, modal=True, program_name=TITLE, version="2.4.1",
                                 comments="Keeps track of customers, their addresses and their invoices.",
                                 website="https://example.org/records", website_label="example.org/records",
                                 copyright="© 2025 The Records Team", license_type=Gtk.License.GPL_3_0,
                                 authors=["Ada Lovelace", "Grace Hopper", "Alan Turing"],
                                 documenters=["Donald Knuth"], logo_icon_name="x-office-address-book")
        self.run_dialog(dialog, "about")

    def write_layout(self):
        rects = {}
        for key, widget in list(self.named.items()):
            if not widget.get_mapped():
                continue
            top = widget.get_toplevel()
            gdk = top.get_window()
            if gdk is None:
                continue
            _, ox, oy = gdk.get_origin()
            if widget is top:
                x, y = 0, 0
            else:
                coords = widget.translate_coordinates(top, 0, 0)
                if coords is None:
                    continue
                x, y = coords
            alloc = widget.get_allocation()
            rects[key] = [ox + x, oy + y, alloc.width, alloc.height]
        tmp = self.layout + ".tmp"
        with open(tmp, "w") as f:
            json.dump(rects, f)
        os.replace(tmp, self.layout)
        return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layout", help="write the named widgets' screen rectangles here every 250 ms")
    parser.add_argument("--records-dir", help="the file chooser's first folder")
    args = parser.parse_args()
    App(args.layout, args.records_dir)
    Gtk.main()


if __name__ == "__main__":
    main()
