"""AT-SPI2 elements: what an accessible object is (role, name, ancestors, application, extents).

Pure logic over one function, ``call(destination, path, interface, method, signature, body,
timeout) -> body`` (:meth:`.atspi_bus.Bus.call`, or a test's fake tree), so the parsing and
the path building are testable without a bus.

An accessible object is a ``(bus name, object path)`` pair. The registry's desktop
(``org.a11y.atspi.Registry``, ``/org/a11y/atspi/accessible/root``) has one child per
application: the application's own ``.../accessible/root``, whose name is the application's
name and whose children are its top-level windows. Every call takes an absolute
``deadline`` (``time.monotonic()`` seconds): a lookup stops with :class:`TimeoutError` once
it is spent, and an application that let a call time out is skipped for ``hold_s`` seconds
(its calls fail at once, counted ``skipped``), so a hung application costs one timeout, not
one per event.

Examples
--------
>>> tree = {(":1.5", ROOT_PATH): ("application", "gedit", None, (0, 0, 0, 0)),
...         (":1.5", "/w"): ("frame", "Untitled 1", (":1.5", ROOT_PATH), (10, 10, 500, 400)),
...         (":1.5", "/m"): ("menu", "File", (":1.5", "/w"), (10, 30, 40, 20)),
...         (":1.5", "/s"): ("menu item", "Save As...", (":1.5", "/m"), (10, 50, 120, 20))}
>>> reader = ElementReader(fake_call(tree))
>>> e = reader.describe((":1.5", "/s"), deadline=float("inf"))
>>> e.role, e.name, e.path, e.app, e.extents
('menu item', 'Save As...', 'gedit > Untitled 1 > File > Save As...', 'gedit', (10, 50, 120, 20))
"""
from __future__ import annotations

import time
from dataclasses import dataclass

ROOT_PATH = "/org/a11y/atspi/accessible/root"
NULL_PATH = "/org/a11y/atspi/null"
REGISTRY = "org.a11y.atspi.Registry"
ACCESSIBLE = "org.a11y.atspi.Accessible"
COMPONENT = "org.a11y.atspi.Component"
PROPERTIES = "org.freedesktop.DBus.Properties"
SCREEN = 0                  # ATSPI_COORD_TYPE_SCREEN: extents and points in screen (root window) pixels
ROLE_PASSWORD_TEXT = 40     # ATSPI_ROLE_PASSWORD_TEXT (GTK, Qt, Chromium and Firefox all map password inputs to it)
RELATION_LABELLED_BY = 2    # ATSPI_RELATION_LABELLED_BY
STATE_ACTIVE, STATE_SHOWING = 1, 25
#: Roles whose selection or focus is menu navigation (rows with event "menu").
MENU_ROLES = frozenset({"menu", "menu item", "check menu item", "radio menu item", "tear off menu item"})
#: Roles whose name, when empty, comes from the label that labels them (an entry beside "Password:").
LABELLED_ROLES = frozenset({"text", "password text", "entry", "combo box", "spin button", "slider",
                            "editbar", "terminal", "list", "tree", "table"})
SEPARATOR = " > "


@dataclass(frozen=True)
class Element:
    """One accessible object as the ``element`` stream stores it (names already cut to size)."""
    role: str                       # GetRoleName: "push button", "menu item", "password text"...
    name: str                       # its name, else the name of what labels it ("" when none)
    path: str                       # the application, then every named ancestor, then the name
    app: str                        # the application's name
    extents: tuple                  # (x, y, width, height) in screen pixels
    password: bool = False          # a password field (role "password text")
    ancestors: tuple = ()           # the named ancestors, application first (the privacy checks read them)
    ref: tuple = ("", "")           # (bus name, object path)

    def contains(self, x: int, y: int) -> bool:
        ex, ey, ew, eh = self.extents
        return ex <= x < ex + ew and ey <= y < ey + eh


class ElementReader:
    """Reads elements through ``call`` (see the module docstring); counts what it costs.

    Not thread-safe: one worker thread uses it.
    """

    def __init__(self, call, *, max_depth: int = 32, max_name: int = 200, hold_s: float = 10.0,
                 clock=time.monotonic):
        self.call = call
        self.max_depth, self.max_name, self.hold_s = max_depth, max_name, hold_s
        self.clock = clock
        self.counters = {"calls": 0, "timeouts": 0, "errors": 0, "skipped": 0}
        self._app_names: dict[str, str] = {}
        self._no_getall: set[str] = set()
        self._hung: dict[str, float] = {}   # bus name -> until when its calls are skipped

    # -- calls --------------------------------------------------------------------------
    def ask(self, ref, interface: str, method: str, signature: str | None = None, body: tuple = (), *,
            deadline: float, cap: float | None = None) -> tuple:
        """One call on ``ref`` with what is left of ``deadline`` (at most ``cap`` seconds)."""
        bus = ref[0]
        now = self.clock()
        until = self._hung.get(bus)
        if until is not None:
            if now < until:
                self.counters["skipped"] += 1
                raise TimeoutError(f"{bus} did not answer recently: skipped")
            del self._hung[bus]
        timeout = deadline - now if cap is None else min(deadline - now, cap)
        if timeout <= 0:
            raise TimeoutError("the lookup's deadline passed")
        self.counters["calls"] += 1
        try:
            return self.call(bus, ref[1], interface, method, signature, body, timeout)
        except TimeoutError:
            self.counters["timeouts"] += 1
            self._hung[bus] = self.clock() + self.hold_s
            raise

    def role_name(self, ref, deadline: float) -> str:
        return str(self.ask(ref, ACCESSIBLE, "GetRoleName", deadline=deadline)[0])

    def extents(self, ref, deadline: float, cap: float | None = None) -> tuple:
        x, y, w, h = self.ask(ref, COMPONENT, "GetExtents", "u", (SCREEN,), deadline=deadline, cap=cap)[0]
        return int(x), int(y), int(w), int(h)

    def states(self, ref, deadline: float, cap: float | None = None) -> int:
        """The state set as one integer (bit ``n`` = ``ATSPI_STATE`` number ``n``)."""
        words = self.ask(ref, ACCESSIBLE, "GetState", deadline=deadline, cap=cap)[0]
        return sum(int(w) << (32 * i) for i, w in enumerate(words))

    def children(self, ref, deadline: float, cap: float | None = None) -> list:
        return [tuple(c) for c in self.ask(ref, ACCESSIBLE, "GetChildren", deadline=deadline, cap=cap)[0]]

    def name_and_parent(self, ref, deadline: float) -> tuple[str, tuple]:
        """``(name, parent ref)``: one ``GetAll`` where the application supports it, else two ``Get``."""
        if ref[0] not in self._no_getall:
            try:
                props = self.ask(ref, PROPERTIES, "GetAll", "s", (ACCESSIBLE,), deadline=deadline)[0]
                parent = _variant(props.get("Parent", ("(so)", ("", NULL_PATH))))
                return _variant(props.get("Name", ("s", ""))), tuple(parent)
            except TimeoutError:
                raise
            except Exception:   # an error reply: some toolkits answer only Get
                self._no_getall.add(ref[0])
        name = _variant(self.ask(ref, PROPERTIES, "Get", "ss", (ACCESSIBLE, "Name"), deadline=deadline)[0])
        parent = _variant(self.ask(ref, PROPERTIES, "Get", "ss", (ACCESSIBLE, "Parent"), deadline=deadline)[0])
        return name, tuple(parent)

    # -- elements -----------------------------------------------------------------------
    def app_name(self, bus: str, deadline: float) -> str:
        name = self._app_names.get(bus)
        if name is None:
            name = self._cut(self.name_and_parent((bus, ROOT_PATH), deadline)[0])
            if len(self._app_names) > 512:   # applications come and go all day: stay bounded
                self._app_names.clear()
            self._app_names[bus] = name
        return name

    def describe(self, ref, deadline: float) -> Element:
        """Role, name, path, application and extents of ``ref``."""
        ref = tuple(ref)
        role = self.role_name(ref, deadline)
        role_number = int(self.ask(ref, ACCESSIBLE, "GetRole", deadline=deadline)[0])
        name, parent = self.name_and_parent(ref, deadline)
        name = self._cut(name)
        if not name and role in LABELLED_ROLES:
            name = self._label(ref, deadline)
        try:
            extents = self.extents(ref, deadline)
        except TimeoutError:
            raise
        except Exception:   # no Component interface (an application object, say)
            extents = (0, 0, 0, 0)
        names = []
        seen = {ref}
        for _ in range(self.max_depth):
            if not parent or not parent[1] or parent[1] in (NULL_PATH, ROOT_PATH) or parent in seen:
                break
            seen.add(parent)
            parent_name, grand = self.name_and_parent(parent, deadline)
            if parent_name:
                names.append(self._cut(parent_name))
            parent = grand
        app = self.app_name(ref[0], deadline)
        ancestors = tuple([app] if app else []) + tuple(reversed(names))
        path = SEPARATOR.join(ancestors + ((name,) if name else ()))
        return Element(role=role, name=name, path=path, app=app, extents=extents,
                       password=role_number == ROLE_PASSWORD_TEXT or role == "password text",
                       ancestors=ancestors, ref=ref)

    def _label(self, ref, deadline: float) -> str:
        """The name of the first object that labels ``ref`` ("" when none says so)."""
        try:
            relations = self.ask(ref, ACCESSIBLE, "GetRelationSet", deadline=deadline)[0]
        except TimeoutError:
            raise
        except Exception:
            return ""
        for kind, targets in relations:
            if kind == RELATION_LABELLED_BY and targets:
                return self._cut(self.name_and_parent(tuple(targets[0]), deadline)[0])
        return ""

    def at_point(self, top, x: int, y: int, deadline: float):
        """The deepest object under screen point ``(x, y)`` inside top-level ``top``, or None
        when the point is outside it (``GetAccessibleAtPoint`` from the top down)."""
        current = tuple(top)
        for _ in range(self.max_depth):
            child = tuple(self.ask(current, COMPONENT, "GetAccessibleAtPoint", "iiu", (x, y, SCREEN),
                                   deadline=deadline)[0])
            if not child[1] or child[1] == NULL_PATH or child == current:
                break
            current = child
        return current

    def applications(self, deadline: float, cap: float | None = None) -> list:
        """The applications on the bus (their root objects), as the registry lists them."""
        return self.children((REGISTRY, ROOT_PATH), deadline, cap)

    def _cut(self, text) -> str:
        text = str(text or "")
        return text if len(text) <= self.max_name else text[:self.max_name - 3] + "..."


def _variant(value):
    """The value of a D-Bus variant as jeepney returns it (``(signature, value)``)."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return value[1]
    return value


def fake_call(tree: dict, *, hang: frozenset = frozenset()):
    """A ``call`` serving ``tree``: ``{(bus, path): (role, name, parent ref, extents)}`` (tests, examples).

    Buses in ``hang`` never answer (the call raises :class:`TimeoutError` at once); the
    registry's root lists every application root in the tree; ``GetAccessibleAtPoint``
    answers with the last child whose extents hold the point.
    """
    def children(ref):
        if ref == (REGISTRY, ROOT_PATH):
            return [k for k in tree if k[1] == ROOT_PATH]
        return [k for k, v in tree.items() if v[2] == ref]

    def call(bus, path, interface, method, signature, body, timeout):
        if bus in hang:
            raise TimeoutError(f"{bus} does not answer")
        ref = (bus, path)
        if ref == (REGISTRY, ROOT_PATH) and method == "GetChildren":
            return (children(ref),)
        if ref not in tree:
            raise LookupError(f"no object {ref}")
        role, name, parent, extents = tree[ref][:4]
        if method == "GetRoleName":
            return (role,)
        if method == "GetRole":
            return (ROLE_PASSWORD_TEXT if role == "password text" else 1,)
        if method == "GetAll":
            return ({"Name": ("s", name), "Parent": ("(so)", parent or ("", NULL_PATH))},)
        if method == "Get":
            return (("s", name) if body[1] == "Name" else ("(so)", parent or ("", NULL_PATH)),)
        if method == "GetExtents":
            return (extents,)
        if method == "GetState":
            state = tree[ref][4] if len(tree[ref]) > 4 else 1 << STATE_SHOWING
            return ([state & 0xffffffff, state >> 32],)
        if method == "GetChildren":
            return (children(ref),)
        if method == "GetRelationSet":
            return ([(RELATION_LABELLED_BY, [tree[ref][5]])] if len(tree[ref]) > 5 else [],)
        if method == "GetAccessibleAtPoint":
            x, y = body[0], body[1]
            hits = [c for c in children(ref) if Element("", "", "", "", tree[c][3]).contains(x, y)]
            return (hits[-1] if hits else ("", NULL_PATH),)
        raise LookupError(f"fake tree: no method {method}")
    return call
