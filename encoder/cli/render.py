"""``encoder render PATH``: a recording as an MP4 or GIF for sharing, or a contact sheet of frames.

Videos run at a fixed ``--fps`` at the recording's true timing (frames repeated or skipped),
with the pointer and clicks drawn; they are lossy (H.264, GIF palettes): for people, not for
training data (docs/viewer.md).
"""
from __future__ import annotations

import argparse

from ..errors import EncoderError
from ..shard import ShardReader
from ..view import contact_sheet, render_video
from ..view.events import first_row_us, last_row_us
from . import _args, _console


def _times(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of seconds: {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0 like 1,5,10.5: {text!r}")
    return values


def register(sub, common) -> None:
    p = sub.add_parser(
        "render", parents=[common], help="export a recording as MP4, GIF or a contact sheet of frames",
        description="Write the frames of a recording at their true timing as an H.264 MP4 (PyAV or the ffmpeg "
                    "program) or a GIF, with the pointer and clicks drawn, or a PNG grid of the frames at chosen "
                    "times. Times are seconds since the recording's first row.")
    p.add_argument("path", metavar="PATH", help="a shard file")
    p.add_argument("--mp4", metavar="OUT", help="write an H.264 MP4 (lossy)")
    p.add_argument("--gif", metavar="OUT", help="write an animated GIF (lossy: 256 colours)")
    p.add_argument("--contact-sheet", metavar="PNG", help="write a grid of frames (needs --times or --every)")
    p.add_argument("--fps", type=_args.positive(241), default=10.0, help="video frame rate (default 10)")
    p.add_argument("--from", dest="start", type=float, default=None, metavar="S", help="start at S seconds")
    p.add_argument("--to", dest="end", type=float, default=None, metavar="S", help="end at S seconds")
    p.add_argument("--scale", type=_args.positive(4.01), default=1.0, help="video frames at this scale (default 1)")
    p.add_argument("--times", type=_times, metavar="LIST", help="contact sheet: frames at these seconds (1,5,10.5)")
    p.add_argument("--every", type=_args.positive(1e7), metavar="S", help="contact sheet: a frame every S seconds")
    p.add_argument("--columns", type=int, default=None, help="contact sheet: columns (default: a square grid)")
    p.add_argument("--width", type=int, default=480, help="contact sheet: width of each frame (default 480)")
    p.add_argument("--no-cursor", action="store_true", help="do not draw the pointer and clicks")
    p.add_argument("--screen", type=int, default=0, help="the screen (default 0)")
    _args.add_encryption_key_file(p)
    p.set_defaults(run=run)


def run(args) -> int:
    if not (args.mp4 or args.gif or args.contact_sheet):
        raise EncoderError("nothing to write: give --mp4 OUT, --gif OUT or --contact-sheet PNG")
    if args.contact_sheet and not (args.times or args.every):
        raise EncoderError("--contact-sheet needs --times LIST or --every S")
    with ShardReader(args.path, encryption_key_file=args.encryption_key_file) as reader:
        for kind, out in (("mp4", args.mp4), ("gif", args.gif)):
            if not out:
                continue
            report = render_video(
                reader, out, kind=kind, fps=args.fps, start_s=args.start, end_s=args.end, scale=args.scale,
                screen=args.screen, cursor=not args.no_cursor,
                progress=lambda it, total: _console.progress(it, quiet=args.quiet, desc=kind, total=total,
                                                             unit="frame"))
            print(f"{out}: {report['frames']:,} frames at {report['fps']:g} fps ({report['seconds']:.1f} s, "
                  f"{report['width']}x{report['height']}) from {report['source_frames']:,} recorded frames, "
                  f"{_console.nbytes(report['bytes'])} via {report['encoder']}")
        if args.contact_sheet:
            times = args.times
            if times is None:
                first, last = first_row_us(reader), last_row_us(reader)
                start = args.start or 0.0
                end = args.end if args.end is not None else (last - first) / 1e6
                count = int((end - start) // args.every) + 1
                times = [start + k * args.every for k in range(max(count, 1))]
            report = contact_sheet(reader, args.contact_sheet, times, columns=args.columns, width=args.width,
                                   screen=args.screen, cursor=not args.no_cursor)
            print(f"{args.contact_sheet}: {len(report['frames'])} frames in {report['rows']} x {report['columns']}, "
                  f"{report['size'][0]}x{report['size'][1]} px")
    return 0
