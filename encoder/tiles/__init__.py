"""Screen tiles: lossless tile deduplication, the shard-wide tile store, frame reconstruction."""
