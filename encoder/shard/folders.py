"""Writing a folder of outputs all at once: built in a staging folder beside the target, then
renamed into place, so a failure or a crash never leaves a half-written export behind.

>>> import os, tempfile
>>> target = os.path.join(tempfile.mkdtemp(), "out")
>>> check_target(target, overwrite=False, hint="overwrite=True")
>>> staging = staging_folder(target)
>>> open(os.path.join(staging, "a.txt"), "w").close()
>>> publish(staging, target)
>>> os.listdir(target)
['a.txt']
"""
from __future__ import annotations

import os
import shutil
import tempfile

from ..errors import EncoderError


def check_target(target: str, overwrite: bool, hint: str) -> None:
    """Refuse a target that is a file, or a folder with files in it unless ``overwrite``
    (``hint``: how the caller asks for it, e.g. ``--overwrite``)."""
    if os.path.exists(target) and not os.path.isdir(target):
        raise EncoderError(f"{target} exists and is not a folder")
    if os.path.isdir(target) and os.listdir(target) and not overwrite:
        raise EncoderError(f"{target} is not empty: pass {hint} to replace it, or choose another folder")


def staging_folder(target: str) -> str:
    """A new, empty folder beside ``target`` (same file system: the final rename is atomic)."""
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(target))}.", suffix=".partial",
                               dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; the export is an ordinary folder
    return staging


def publish(staging: str, target: str) -> None:
    """Move the finished folder into place, replacing an old one only once the new is complete."""
    old = None
    if os.path.isdir(target):
        if os.listdir(target):
            old = staging + ".old"
            os.rename(target, old)
        else:
            os.rmdir(target)
    try:
        os.rename(staging, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
