"""``encoder view PATH``: replay a recording in a browser, from one HTML file or a local server.

``-o page.html`` writes a self-contained page (script, style, events and a bounded number
of frames inline: nothing is fetched from the network); ``--serve`` serves the page and
every frame on demand from http://127.0.0.1 (docs/viewer.md).
"""
from __future__ import annotations

import time

from ..errors import EncoderError
from ..shard import ShardReader
from ..view import DEFAULT_MAX_FRAMES, ViewServer, build_page
from ..view.images import LOSSLESS, MIME
from . import _args, _console


def register(sub, common) -> None:
    p = sub.add_parser(
        "view", parents=[common], help="replay a recording in a browser (an HTML page or a local server)",
        description="Replay the frames of a recording at their true timing with the pointer trail, clicks, keys "
                    "and typed text, apps and windows, the derived actions, paused periods and dropped events. "
                    "-o writes one self-contained HTML file (a bounded number of frames embedded); --serve "
                    "serves every frame on demand from http://127.0.0.1 (for long recordings).")
    p.add_argument("path", metavar="PATH", help="a shard file")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", metavar="FILE", help="write the page to FILE")
    where.add_argument("--serve", action="store_true", help="serve the page on 127.0.0.1 until Ctrl-C")
    p.add_argument("--port", type=int, default=8765, help="--serve: the port (default 8765; 0 picks a free one)")
    p.add_argument("--max-frames", type=int, default=DEFAULT_MAX_FRAMES, metavar="N",
                   help=f"-o: embed N evenly spaced frames plus each action's frame (default {DEFAULT_MAX_FRAMES})")
    p.add_argument("--all-frames", action="store_true", help="-o: embed every frame (large for long recordings)")
    p.add_argument("--image", choices=list(MIME), default=None,
                   help="frame files: webp (lossless; the default of -o), png (lossless) or jpeg (lossy, "
                        "fastest; the default of --serve); without Pillow only png")
    p.add_argument("--scale", type=_args.positive(4.01), default=1.0, help="frames at this scale (default 1)")
    p.add_argument("--screen", type=int, default=0, help="the screen to replay (default 0)")
    _args.add_encryption_key_file(p)
    p.set_defaults(run=run)


def wait_for_interrupt() -> None:
    """Block until Ctrl-C (tests replace it)."""
    while True:
        time.sleep(3600)


def run(args) -> int:
    if args.port < 0 or args.port > 65535:
        raise EncoderError(f"--port must be 0-65535, not {args.port}")
    with ShardReader(args.path, encryption_key_file=args.encryption_key_file) as reader:
        if args.serve:
            return _serve(reader, args)
        started = time.perf_counter()
        page, report = build_page(
            reader, screen=args.screen, max_frames=None if args.all_frames else max(args.max_frames, 0),
            image_format=args.image, scale=args.scale,
            progress=lambda it, total: _console.progress(it, quiet=args.quiet, desc="frames", total=total,
                                                         unit="frame"))
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(page)
    kept, count = len(report["embedded"]), report["frames"]
    quality = "lossless" if report["image_format"] in LOSSLESS else "lossy"
    print(f"{args.output}: {_console.nbytes(report['page_bytes'])}, {kept:,} of {count:,} frames embedded "
          f"({report['image_format']}, {quality}, {_console.nbytes(report['frame_bytes'])}) "
          f"in {time.perf_counter() - started:.1f} s")
    if kept < count:
        print(f"left out {count - kept:,} frames: the page shows the nearest earlier embedded frame at their times; "
              f"--max-frames N, --all-frames or --serve show more")
    return 0


def _serve(reader, args) -> int:
    server = ViewServer(reader, screen=args.screen, image_format=args.image, scale=args.scale, port=args.port)
    with server:
        quality = "lossless" if server.image_format in LOSSLESS else "lossy"
        print(f"serving {args.path} at {server.url} ({server.frame_count:,} frames as {server.image_format}, "
              f"{quality}); Ctrl-C stops", flush=True)
        try:
            wait_for_interrupt()
        except KeyboardInterrupt:
            print(file=__import__("sys").stderr)
    return 0
