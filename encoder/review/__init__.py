"""Review before sharing: cut time ranges out of a shard, black out parts of its frames, and see
what it holds (docs/review.md).

:func:`cut` and :func:`redact` write a new shard (atomically, verified) and never touch the
input; :func:`session_stats` gathers the figures of ``encoder stats`` and :func:`stats_page`
renders them as a self-contained HTML page.
"""
from .cut import cut
from .ranges import Rect, TimeRange, parse_range, parse_rect
from .redact import redact
from .rewrite import Report
from .stats import session_stats
from .page import stats_page

__all__ = ["Rect", "Report", "TimeRange", "cut", "parse_range", "parse_rect", "redact", "session_stats",
           "stats_page"]
