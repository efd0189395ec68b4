"""The screen thread's per-frame X requests, written and read straight on the socket.

A frame tick makes the same few requests (``DamageSubtract`` + ``FetchRegion``, then one
``ShmGetImage`` per band). Through python-xlib each costs a request object, its binary form,
a reply object and a pass of its event loop: the damage fetch took 0.17 ms of CPU when warm
and 0.72 ms in the recorder, where a tick runs every half second with cold caches. Here they
are ``struct`` packs, one ``sendall`` per round trip and a small parse of the replies.

The connection stays python-xlib's: it was opened, authenticated and set up there, and
:class:`RawRequests` keeps its request counter in step, so python-xlib can be used on it
again between ticks (setup, a relayout). A batch is only sent raw when python-xlib holds
nothing in flight (no queued request, no reply awaited, nothing half read); otherwise the
caller falls back to python-xlib for that tick. Events on this connection (DamageNotify) are
read and dropped, as the python-xlib path did; an error answering one of the batch's requests
is raised as :class:`Xlib.error.XError` once every answer has been read (the connection stays
in step), an error of any other request goes to the display's error handler.
"""
from __future__ import annotations

import struct

from Xlib.error import ConnectionClosedError, XError

_HEAD = struct.Struct("=BBHI")   # type, detail, sequence number, reply length (4-byte units)
GENERIC_EVENT = 35


class RawRequests:
    """Batches of pre-packed requests on a python-xlib ``Display``'s socket."""

    def __init__(self, disp):
        self.d = disp.display

    def ready(self) -> bool:
        """Whether python-xlib holds nothing in flight, so a raw batch keeps the stream in step."""
        d = self.d
        return not (d.request_queue or d.sent_requests or d.data_send or d.data_recv or d.recv_packet_len)

    def exchange(self, requests: list[bytes], replies: list[bool]) -> list[bytes]:
        """Send ``requests`` (whole packed requests) at once; return the replies (whole packets,
        header included) of those flagged in ``replies``, in order."""
        d = self.d
        first = d.request_serial
        d.request_serial = (first + len(requests)) % 65536
        wanted = {(first + i) % 65536: i for i, r in enumerate(replies) if r}
        answers: dict[int, bytes] = {}
        failure = None
        d.socket.sendall(b"".join(requests))
        while len(answers) < len(wanted):
            head = self._read(32)
            kind, _, seq, length = _HEAD.unpack_from(head)
            size = 32 + 4 * length if kind == 1 or kind & 0x7F == GENERIC_EVENT else 32
            packet = head + self._read(size - 32) if size > 32 else head
            if kind == 1 and seq in wanted:
                answers[seq] = packet
            elif kind == 0:
                err = XError(d, packet)
                if seq in wanted:
                    answers[seq] = b""
                    failure = failure or err
                elif d.error_handler is not None:
                    d.error_handler(err, None)
            # anything else: an event (DamageNotify), dropped as before
        if failure is not None:
            raise failure
        return [answers[s] for s in sorted(wanted, key=wanted.get)]

    def _read(self, size: int) -> bytes:
        """Exactly ``size`` bytes: never past the packet being read, what follows stays on the
        socket for python-xlib."""
        out = bytearray()
        while len(out) < size:
            chunk = self.d.socket.recv(size - len(out))
            if not chunk:
                raise ConnectionClosedError("server")
            out += chunk
        return bytes(out)
