"""The shard container: one file per session (or per rotation), see docs/format.md."""
from .reader import BlockInfo, ShardReader
from .writer import ShardWriter

__all__ = ["BlockInfo", "ShardReader", "ShardWriter"]
