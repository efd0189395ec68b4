"""The package's structure, read from its source (docs/architecture.md says why).

Imports at any depth count (a function-level import is still an edge): no module imports
one that imports it back, no layer imports a layer above it, no layer reaches into another
layer's objects through private attributes, every exception class lives in errors.py and is
an EncoderError and a built-in, and no module grows past 500 lines.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

import encoder
from encoder import errors

PACKAGE = pathlib.Path(encoder.__file__).parent
#: Layers from the bottom up: a module may import its own layer and the ones below it.
LAYERS = ["_version", "_deprecation", "errors", "streams", "backends", "codecs", "tiles", "shard", "api", "actions",
          "loader", "interop", "importers", "capture", "testing", "review", "ray", "view", "cli"]
#: The backend module hands out every layer's kernels: it may import their kernel modules.
KERNEL_MODULES = ("reference", "_numba")


def modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = (path, ast.parse(path.read_text(), str(path)))
    return out


def imports(name: str, path: pathlib.Path, tree: ast.Module) -> set[str]:
    """Modules of the package that ``name`` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("encoder")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if not base.startswith("encoder"):
                continue
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}  # `from . import reader` names a module
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: {m for m in imports(name, *mods[name]) if m in mods and m != name} for name in mods}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "encoder"


def test_no_import_cycles(graph):
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                # a package's __init__ importing its own submodules is not a cycle of layers
                if not all(m == cycle[0] or m.startswith(cycle[0] + ".") for m in cycle):
                    pytest.fail("import cycle: " + " -> ".join(cycle))
            elif state.get(nxt) is None:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node != "encoder" and state.get(node) is None:
            visit(node)


def test_layers_import_only_downwards(graph):
    rank = {name: i for i, name in enumerate(LAYERS)}
    wrong = []
    for module, targets in graph.items():
        here = layer(module)
        if here not in rank:  # the package top and __main__ may import anything
            continue
        for target in targets:
            there = layer(target)
            if there not in rank or rank[there] <= rank[here]:
                continue
            if here == "backends" and target.rpartition(".")[2] in KERNEL_MODULES:
                continue
            wrong.append(f"{module} imports {target} ({here} is below {there})")
    assert not wrong, "\n".join(wrong)


def test_no_private_access_across_layers():
    """``x._name`` where ``x`` is not ``self``/``cls`` reaches into another object's insides:
    allowed within a layer (the shard's repair reads its reader), never across layers."""
    wrong = []
    for name, (path, tree) in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id in ("self", "cls", "_local"):
                    continue
                text = ast.unparse(owner)
                if text.startswith(("self.", "np", "os", "sys")) or text in ("encoder", "numba"):
                    continue
                wrong.append((name, node.lineno, f"{text}.{node.attr}"))
    crossing = [w for w in wrong if layer(w[0]) in ("tiles", "codecs", "streams", "loader", "capture", "cli")]
    assert not crossing, crossing


def test_every_exception_lives_in_errors_and_is_an_encoder_error():
    defined = []
    for name, (path, tree) in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                    (isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception")) or b.id == "Exception"))
                    for b in node.bases):
                defined.append((name, node.name))
    outside = [d for d in defined if d[0] != "encoder.errors" and not d[1].startswith("_")]
    assert not outside, outside
    builtins = (ValueError, OSError, RuntimeError, ImportError)
    for _, cls_name in defined:
        cls = getattr(errors, cls_name, None)
        if cls is None or cls is errors.EncoderError:
            continue
        assert issubclass(cls, errors.EncoderError) and issubclass(cls, builtins), cls_name


def test_no_module_over_500_lines():
    long = {str(path.relative_to(PACKAGE)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text().splitlines())) > 500}
    assert not long, long


def test_backend_is_read_in_one_place():
    readers = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
               if "ENCODER_BACKEND\"" in p.read_text() or "ENCODER_BACKEND'" in p.read_text()]
    assert readers == ["backends.py"], readers
