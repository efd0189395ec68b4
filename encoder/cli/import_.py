"""``encoder import agentnet|ducktrack SRC -o SHARD``: a public raw recording as one shard.

The mapping (units, signs, what is skipped) is in docs/importers.md. The shard is written
beside ``SHARD`` and renamed into place at the end, so a failure leaves nothing; an existing
``SHARD`` is refused unless ``--overwrite``. Prints one paragraph: rows per stream, frames,
events skipped by kind, time taken. Exit 0, or 2 for bad input (a malformed line is named
with its file and line number).
"""
from __future__ import annotations

import argparse
import os

from ..errors import EncoderError
from ..importers import IMPORTERS
from . import _console, exit_codes


def register(sub, common) -> None:
    p = sub.add_parser(
        "import", parents=[common], help="import a DuckTrack or AgentNet recording into a shard",
        description="Read a raw recording of another tool and write one shard: pointer, button, scroll "
                    "and key streams (X keysyms and modifier state, wheel steps with +1 = down), the "
                    "focused app (AgentNet) and, with --frames, the screen video's frames (AgentNet; "
                    "needs PyAV or ffmpeg). Events that cannot be mapped are counted and reported.")
    p.add_argument("format", choices=sorted(IMPORTERS), help="the recording's format")
    p.add_argument("src", metavar="SRC", help="the recording's folder, or its events.jsonl")
    p.add_argument("-o", "--output", required=True, metavar="SHARD", help="the shard to write")
    p.add_argument("--frames", action="store_true",
                   help="agentnet: also import the video's frames (slow: ~20 s for 2 minutes of video)")
    p.add_argument("--decoder", choices=["auto", "av", "ffmpeg"], default="auto",
                   help="agentnet --frames: PyAV or the ffmpeg programs (auto: PyAV when installed)")
    p.add_argument("--screen", metavar="WxH",
                   help="ducktrack without metadata.json: the main screen's size in the events' units")
    p.add_argument("--scroll-direction", type=int, choices=[1, -1],
                   help="ducktrack without metadata.json: DuckTrack's setting (-1: natural scrolling)")
    p.add_argument("--system", help="ducktrack without metadata.json: Darwin, Windows or Linux")
    p.add_argument("--apply-scroll-direction", action="store_true",
                   help="multiply wheel steps by the recorded scroll direction (DuckTrack's playback rule; "
                        "off: pynput already reports the direction applications scrolled)")
    p.add_argument("--overwrite", action="store_true", help="replace SHARD if it exists")
    p.set_defaults(run=run)


def options(args: argparse.Namespace) -> dict:
    """The importer's keyword arguments from the command line (refusing the other format's)."""
    opts = {"apply_scroll_direction": args.apply_scroll_direction}
    if args.format == "agentnet":
        given = [flag for flag, value in (("--screen", args.screen), ("--scroll-direction", args.scroll_direction),
                                          ("--system", args.system)) if value is not None]
        if given:
            raise EncoderError(f"{', '.join(given)}: only for ducktrack (an AgentNet episode has metadata.json)")
        opts.update(frames=args.frames, decoder=args.decoder)
    else:
        if args.frames:
            raise EncoderError("--frames: only for agentnet (DuckTrack's published recordings have no video)")
        opts.update(screen=args.screen, scroll_direction=args.scroll_direction, system=args.system)
    return opts


def describe(summary: dict) -> str:
    """The one-paragraph report of an import."""
    rows = ", ".join(f"{name} {n:,}" for name, n in summary["rows"].items())
    skipped = summary["skipped"]
    skip_text = ("nothing skipped" if not skipped else
                 f"skipped {sum(skipped.values()):,} events (" +
                 ", ".join(f"{kind}: {n:,}" for kind, n in sorted(skipped.items())) + ")")
    span = summary["t_us"]
    span_text = f" over {_console.duration(span[1] - span[0])}" if span else ""
    frames = f", {summary['frames']:,} frames" if summary["frames"] else ""
    size = os.path.getsize(summary["shard"])
    return (f"imported {summary['format']} {summary['source']} ({summary['lines']:,} events{span_text}) "
            f"into {summary['shard']} ({_console.nbytes(size)}) in {summary['seconds']:.2f} s: rows {rows}"
            f"{frames}; {skip_text}.")


def run(args) -> int:
    if os.path.exists(args.output) and not args.overwrite:
        raise EncoderError(f"{args.output} exists (--overwrite replaces it)")
    summary = IMPORTERS[args.format](args.src, args.output, **options(args))
    print(describe(summary))
    return exit_codes.OK
