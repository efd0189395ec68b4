"""Other tools' codec interfaces over the library's codecs: numcodecs and zarr v3.

* :mod:`.blobs`: the two self-contained byte formats (an integer column through the event
  column pipeline; a chunk of frames through the screen tiles), needing no optional package;
* :mod:`.numcodecs_codecs`: ``encoder_events`` and ``encoder_frames`` as numcodecs codecs;
* :mod:`.zarr_codecs`: the same as zarr v3 array-to-bytes codecs.

numcodecs and zarr are optional (``pip install 'hci-encoder[zarr]'``); both find the codecs
by id through the package's entry points (docs/codecs.md).
"""
from .blobs import decode_events, decode_frames, encode_events, encode_frames

__all__ = ["decode_events", "decode_frames", "encode_events", "encode_frames"]
