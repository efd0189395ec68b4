"""``encoder redact PATH --rect X,Y,W,H[@FROM-TO] [--rect ...] -o OUT``: black out parts of frames.

The library does the work (:func:`encoder.review.redact`, docs/review.md); this prints what was
changed. The output is written beside OUT, verified, then renamed into place; PATH is only read.
"""
from __future__ import annotations

from ..review import parse_rect, redact
from . import _args
from .cut import print_report
from .exit_codes import OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "redact", parents=[common], help="copy a shard with rectangles of its frames blacked out",
        description="Write a copy of the shard with each rectangle painted opaque black (colour 0, alpha 255) "
                    "in every frame, or in the frames of its time range. Every frame is written anew, so no "
                    "tile of the original pixels inside a rectangle remains in OUT (unless a frame outside "
                    "the rectangle's time range shows them). Streams are copied unchanged. OUT is verified "
                    "before it is renamed into place; PATH is never modified.")
    p.add_argument("path", metavar="PATH", help="shard file (only read)")
    p.add_argument("--rect", action="append", required=True, metavar="X,Y,W,H[@FROM-TO]",
                   help="pixels from the top-left corner; @FROM-TO limits it to the frames in that time "
                        "(seconds from the shard's first row, as `encoder cut --drop`); repeatable")
    p.add_argument("--screen", type=int, metavar="N", help="only the frames of this screen (default: all)")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="the new shard file")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists (never PATH)")
    _args.add_encryption_key_file(p)
    p.set_defaults(run=run)


def run(args) -> int:
    rects = [parse_rect(text) for text in args.rect]
    report = redact(args.path, args.out, rects, screen=args.screen, encryption_key_file=args.encryption_key_file,
                    overwrite=args.overwrite)
    where = "" if args.screen is None else f" of screen {args.screen}"
    print(f"REDACTED {args.path} -> {args.out}: blacked out {', '.join(r.text() for r in rects)}{where}")
    print_report(report)
    return OK
