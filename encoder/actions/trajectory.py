"""``export_trajectory``: an actions table as the step files agent-training code reads.

The layout is AgentNet's (OpenCUA): one step per action, each with the screen seen before it
as a PNG and the action as PyAutoGUI code with coordinates normalised to 0-1. It writes

- ``trajectory.jsonl``: one JSON object per action, in time order (:func:`step_record`);
- ``images/<frame>.png``: each observation frame used, once, lossless, RGB;
- ``trajectory.parquet`` (``parquet=True``): the same steps, ``image`` as a struct
  ``{bytes, path}`` that Hugging Face ``datasets`` reads as an ``Image`` feature.

:func:`action_code` maps each kind to code (docs/actions.md, Trajectories has the table). Every
code string parses with :func:`ast.parse`; PyAutoGUI calls are written as PyAutoGUI accepts
them, and what PyAutoGUI cannot do (a window switch, a command) is a ``computer.*`` call, the
namespace OpenCUA uses for its own actions (``computer.tripleClick``, ``computer.terminate``).

>>> action_code({"kind": "click", "x": 812, "y": 44, "button": 1, "count": 1}, (0, 0, 1920, 1080))
('pyautogui.click(x=0.4229, y=0.0407)', 'pyautogui.click(x=812, y=44)')
>>> action_code({"kind": "type", "text": "it's\\n", "count": 5}, None)[0]
'pyautogui.write(message="it\\'s\\\\n")'
"""
from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from ..errors import EncoderError, SchemaError
from ..shard import ShardReader, pixels
from ..shard.folders import check_target, publish, staging_folder
from .schema import POINTER_KINDS, SCHEMA

#: The file names inside the output folder.
JSONL, PARQUET, IMAGES = "trajectory.jsonl", "trajectory.parquet", "images"
#: X button -> PyAutoGUI's button name (others have no PyAutoGUI name).
BUTTONS = {1: "left", 2: "middle", 3: "right"}
#: Click kinds -> the PyAutoGUI function.
CLICKS = {"click": "click", "double_click": "doubleClick", "triple_click": "tripleClick",
          "right_click": "rightClick", "middle_click": "middleClick"}
#: Hotkey modifiers as ``derive`` writes them (``ctrl+alt+shift+win+<key>``).
MODIFIERS = ("ctrl", "alt", "shift", "win")
#: Columns of the actions table whose float32 values are written by their shortest repr.
FLOATS = tuple(f.name for f in SCHEMA if pa.types.is_floating(f.type))
#: The Parquet ``image`` column: what ``datasets.Image`` stores (PNG bytes and a relative path).
IMAGE_TYPE = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
#: Schema metadata that makes ``datasets`` decode ``image`` as an Image (other columns are inferred).
HF_METADATA = {b"huggingface": json.dumps({"info": {"features": {"image": {"_type": "Image"}}}}).encode()}


# -- the code of one action -------------------------------------------------------------------
def _norm(value: int, origin: int, size: int) -> tuple[float, int]:
    """(normalised 0-1 rounded to 4 decimals, pixel in the image) of a pointer coordinate,
    clamped into the screen (OpenCUA clamps too: its steps only hold 0-1)."""
    pixel = min(max(int(value) - origin, 0), size - 1)
    return round(pixel / size, 4), pixel


def _point(action: dict, rect, second: bool = False) -> tuple[str, str]:
    """``x=..., y=...`` of the action's point (``x2, y2`` when ``second``): normalised, absolute."""
    x, y = (action["x2"], action["y2"]) if second else (action["x"], action["y"])
    if x is None or y is None:
        raise SchemaError(f"a {action['kind']} action without {'x2, y2' if second else 'x, y'}")
    nx, ax = _norm(x, rect[0], rect[2])
    ny, ay = _norm(y, rect[1], rect[3])
    return f"x={nx!r}, y={ny!r}", f"x={ax}, y={ay}"


def _hotkey_keys(text: str) -> list[str]:
    """``'ctrl+shift+t'`` -> ``['ctrl', 'shift', 't']``; the key itself may be ``+``."""
    keys = []
    while True:
        head, sep, rest = text.partition("+")
        if sep and head in MODIFIERS and rest:
            keys.append(head)
            text = rest
        else:
            return keys + [text]


def _unnamed(key: str | None) -> bool:
    """A key ``derive`` could not name: null, or a timing-only class such as ``<navigation>``."""
    return key is None or key == "" or (len(key) > 2 and key.startswith("<") and key.endswith(">"))


def _comment(text: str) -> str:
    """A one-line Python comment (newlines and other controls escaped: the code stays one line)."""
    return "# " + text.encode("unicode_escape").decode("ascii") if not text.isprintable() else "# " + text


def _keys_code(action: dict) -> str:
    kind, text, count = action["kind"], action["text"], max(int(action["count"] or 1), 1)
    if kind == "type":
        if text is None:  # timing-only recording: only the presses are known
            return _comment(f"typed {count} keys (text not recorded)")
        return f"pyautogui.write(message={text!r})"
    if kind == "key":
        if _unnamed(text):
            return _comment(f"pressed {'a ' + text if text else 'a'} key {count} time(s) (key not recorded)")
        return f"pyautogui.press({text!r}" + (f", presses={count})" if count > 1 else ")")
    keys = _hotkey_keys(text or "")
    if _unnamed(keys[-1]):
        return _comment(f"hotkey {text!r} pressed {count} time(s) (key not recorded)")
    # PyAutoGUI's hotkey() has no presses=: a held, auto-repeated hotkey is one call per press.
    return "\n".join([f"pyautogui.hotkey({', '.join(repr(k) for k in keys)})"] * count)


def action_code(action: dict, rect) -> tuple[str, str]:
    """(``code``, ``code_abs``) of one action (a row of an actions table, as a dict).

    ``rect`` = (x, y, width, height) of the screen the pointer coordinates are mapped into
    (None is enough for actions without coordinates). ``code`` has coordinates normalised to
    0-1 and rounded to 4 decimals, as AgentNet writes them; ``code_abs`` the same calls with
    pixels of the screen image. Both parse with :func:`ast.parse`.
    """
    kind = action["kind"]
    if kind in ("type", "key", "hotkey"):
        code = _keys_code(action)
        return code, code
    if kind == "focus":
        code = f"computer.focus(app={action.get('app')!r}, title={action['text']!r})"
        return code, code
    if kind == "command":
        code = f"computer.run_command(command={action['text']!r})"
        return code, code
    if kind not in CLICKS and kind not in ("move", "drag", "scroll"):
        code = _comment(f"unknown action kind {kind!r}")
        return code, code
    if rect is None:
        raise EncoderError(f"a {kind} action needs the screen size to normalise its coordinates")
    at = _point(action, rect)
    button = action.get("button")
    if kind in CLICKS:
        if kind == "click" and button not in (None, 1):  # back, forward...: PyAutoGUI has none
            name = BUTTONS.get(button)
            if name is None:
                return tuple(_comment(f"click of mouse button {button} at ({p}) (no PyAutoGUI button)")
                             for p in at)
            return tuple(f"pyautogui.click({p}, button={name!r})" for p in at)
        return tuple(f"pyautogui.{CLICKS[kind]}({p})" for p in at)
    if kind == "move":
        return tuple(f"pyautogui.moveTo({p})" for p in at)
    if kind == "drag":
        to = _point(action, rect, second=True)
        name = BUTTONS.get(button if button is not None else 1)
        if name is None:
            return tuple(_comment(f"drag with mouse button {button} from ({p}) to ({q}) (no PyAutoGUI button)")
                         for p, q in zip(at, to))
        return tuple(f"pyautogui.moveTo({p})\npyautogui.dragTo({q}, button={name!r})" for p, q in zip(at, to))
    # scroll: our dy > 0 is down and dx > 0 right, in wheel steps; PyAutoGUI's scroll(n) > 0
    # is up and hscroll(n) > 0 right, in the same steps ("clicks").
    lines = []
    if action.get("dx"):
        lines.append(f"pyautogui.hscroll({int(action['dx'])})")
    if action.get("dy"):
        lines.append(f"pyautogui.scroll({-int(action['dy'])})")
    return tuple("\n".join([f"pyautogui.moveTo({p})"] + lines) for p in at)


# -- screens and frames -------------------------------------------------------------------------
def _screen_rect(metadata: dict, screen: int):
    """(x, y, width, height) of ``screen`` in the shard metadata's ``screens``, else None."""
    screens = metadata.get("screens") if isinstance(metadata, dict) else None
    if not isinstance(screens, list):
        return None
    found = [s for s in screens if isinstance(s, dict) and s.get("id") == screen]
    if not found and 0 <= screen < len(screens) and isinstance(screens[screen], dict) \
            and "id" not in screens[screen]:
        found = [screens[screen]]
    if not found:
        return None
    entry = found[0]
    try:
        rect = tuple(int(entry.get(k, 0)) for k in ("x", "y")) + (int(entry["width"]), int(entry["height"]))
    except (KeyError, TypeError, ValueError):
        return None
    return rect if rect[2] > 0 and rect[3] > 0 else None


def _checked_actions(actions) -> pa.Table:
    if not isinstance(actions, pa.Table):
        raise SchemaError(f"actions must be a pyarrow.Table of encoder.actions.SCHEMA, not {type(actions).__name__}")
    wrong = [f"{f.name} ({f.type})" for f in SCHEMA
             if f.name not in actions.schema.names or not actions.schema.field(f.name).type.equals(f.type)]
    if wrong:
        raise SchemaError(f"the actions table lacks or mistypes the columns {wrong}: "
                          "expected encoder.actions.SCHEMA (what derive returns)")
    return actions.select(SCHEMA.names)


def _save_png(rgb: np.ndarray, path: str) -> int:
    from PIL import Image
    Image.fromarray(rgb).save(path, format="PNG", compress_level=1)
    return os.path.getsize(path)


def write_images(reader: ShardReader, frames, screen: int, folder: str) -> dict[int, int]:
    """Write frame ``k`` of ``screen`` as ``folder/<k>.png`` (RGB, lossless) for each distinct
    ``k`` of ``frames``; returns {frame: bytes}. PNGs are encoded on threads (zlib releases the GIL)."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise EncoderError("trajectory images need Pillow: pip install pillow") from None
    wanted = sorted({int(k) for k in frames if k >= 0})
    os.makedirs(folder, exist_ok=True)
    workers = max(1, min(8, os.cpu_count() or 1))
    sizes, pending = {}, []
    with ThreadPoolExecutor(workers) as pool:
        for k in wanted:
            rgb = pixels.rgb(reader.frame(k, screen), reader.frame_info(k, screen)["format"])
            pending.append((k, pool.submit(_save_png, rgb, os.path.join(folder, f"{k}.png"))))
            if len(pending) >= 2 * workers:  # bound the frames held in memory
                k0, done = pending.pop(0)
                sizes[k0] = done.result()
        for k, done in pending:
            sizes[k] = done.result()
    return sizes


# -- records ------------------------------------------------------------------------------------
def _plain(name: str, value):
    """A JSON value of column ``name``: float32 by its shortest repr (0.8, not 0.800000011920929)."""
    if name in FLOATS and value is not None:
        value = float(str(np.float32(value)))
        return value if np.isfinite(value) else None
    return value


def step_record(index: int, action: dict, rect, image: str | None) -> dict:
    """The JSON object of one step: ``index``, ``t``, ``t_end``, ``kind``, ``frame``, ``image``,
    ``code``, ``code_abs``, ``width``, ``height`` (the screen the coordinates are normalised by),
    then every other column of the actions table."""
    code, code_abs = action_code(action, rect)
    head = {"index": index, "t": action["t"], "t_end": action["t_end"], "kind": action["kind"],
            "frame": action["frame"], "image": image, "code": code, "code_abs": code_abs,
            "width": rect[2] if rect else None, "height": rect[3] if rect else None}
    return head | {name: _plain(name, value) for name, value in action.items() if name not in head}


def _rects(reader: ShardReader, actions: pa.Table, screen: int) -> list:
    """The (x, y, width, height) each action's coordinates are mapped into: the frame's size
    (origin from the metadata's screen), else the metadata's screen, else None."""
    meta = _screen_rect(reader.metadata, screen)
    origin = meta[:2] if meta else (0, 0)
    sizes = {}
    for k in set(actions.column("frame").to_pylist()):
        if k >= 0:
            info = reader.frame_info(k, screen)
            sizes[k] = origin + (int(info["width"]), int(info["height"]))
    return [sizes.get(k, meta) for k in actions.column("frame").to_pylist()]


def _parquet_table(records: list[dict], actions: pa.Table, images: dict[int, bytes]) -> pa.Table:
    """The steps as a table: the head columns, ``image`` as {bytes, path}, then the actions' own columns."""
    image = pa.array([None if r["image"] is None else {"bytes": images[r["frame"]], "path": r["image"]}
                      for r in records], IMAGE_TYPE)
    head = {"index": pa.array([r["index"] for r in records], pa.int64()), "t": actions.column("t"),
            "t_end": actions.column("t_end"), "kind": actions.column("kind"), "frame": actions.column("frame"),
            "image": image, "code": pa.array([r["code"] for r in records], pa.string()),
            "code_abs": pa.array([r["code_abs"] for r in records], pa.string()),
            "width": pa.array([r["width"] for r in records], pa.int32()),
            "height": pa.array([r["height"] for r in records], pa.int32())}
    rest = {name: actions.column(name) for name in actions.column_names if name not in head}
    return pa.table(head | rest).replace_schema_metadata(HF_METADATA)


def export_trajectory(source, out_dir, *, actions: pa.Table | None = None, screen: int = 0, rules=None,
                      parquet: bool = False, overwrite: bool = False) -> dict:
    """Write the actions of ``source`` as an AgentNet-style trajectory in ``out_dir``.

    Parameters
    ----------
    source : ShardReader or path
        The recording; its frames of ``screen`` are the observations.
    out_dir : path
        The folder to write (``trajectory.jsonl``, ``images/``, ``trajectory.parquet``). It must
        be absent or empty unless ``overwrite``; it is written beside it first and renamed into
        place, so a failure leaves no partial folder.
    actions : pyarrow.Table, optional
        A table of :data:`~encoder.actions.SCHEMA` (default: :func:`~encoder.actions.derive`
        of ``source`` with ``screen`` and ``rules``).
    parquet : bool
        Also write ``trajectory.parquet``, the images embedded (a ``datasets`` Image column).

    Returns
    -------
    dict
        ``actions`` (steps written), ``images`` (PNG files), ``bytes`` (all files written),
        ``path`` (``out_dir``).

    Raises
    ------
    EncoderError
        ``out_dir`` is not empty (and not ``overwrite``), or a pointer action has no screen
        size: its frame is -1 and the metadata has no ``screens`` entry for ``screen``.
    SchemaError
        ``actions`` is not an actions table, or refers to frames the shard does not have.
    """
    out_dir = os.fspath(out_dir)
    check_target(out_dir, overwrite, "overwrite=True")
    if isinstance(source, (str, os.PathLike)):
        with ShardReader(source) as reader:
            return export_trajectory(reader, out_dir, actions=actions, screen=screen, rules=rules,
                                     parquet=parquet, overwrite=overwrite)
    if actions is None:
        from .derive import derive
        actions = derive(source, screen=screen, rules=rules)
    actions = _checked_actions(actions)
    frames = actions.column("frame").to_pylist()
    last = max(frames, default=-1)
    count = source.frame_count(screen) if last >= 0 and "frame" in source.streams else 0
    if last >= count:
        raise SchemaError(f"the actions refer to frame {last} of screen {screen}, which has {count} frames: "
                          "were they derived from this shard and screen?")
    rects = _rects(source, actions, screen)
    records = []
    for index, (action, rect) in enumerate(zip(actions.to_pylist(), rects)):
        if rect is None and action["kind"] in POINTER_KINDS:
            raise EncoderError(f"action {index} ({action['kind']} at t={action['t']}) has no screen size to "
                               f"normalise its coordinates by: its frame is {action['frame']} and the shard "
                               f"metadata has no 'screens' entry for screen {screen}")
        image = f"{IMAGES}/{action['frame']}.png" if action["frame"] >= 0 else None
        records.append(step_record(index, action, rect, image))
    staging = staging_folder(out_dir)
    try:
        sizes = write_images(source, frames, screen, os.path.join(staging, IMAGES)) if records else {}
        with open(os.path.join(staging, JSONL), "w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        written = os.path.getsize(os.path.join(staging, JSONL)) + sum(sizes.values())
        if parquet:
            import pyarrow.parquet as pq
            images = {}
            for k in sizes:
                with open(os.path.join(staging, IMAGES, f"{k}.png"), "rb") as f:
                    images[k] = f.read()
            pq.write_table(_parquet_table(records, actions, images), os.path.join(staging, PARQUET),
                           compression="zstd")
            written += os.path.getsize(os.path.join(staging, PARQUET))
        publish(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"actions": len(records), "images": len(sizes), "bytes": written, "path": out_dir}
