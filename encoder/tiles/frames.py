"""Frame methods of ShardWriter and ShardReader (mixed in; see encoder/shard)."""


class FrameWriterMixin:
    def _finish_frames(self) -> None:
        """Called by ShardWriter.close() before buffered streams are flushed."""


class FrameReaderMixin:
    pass
