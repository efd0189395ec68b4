"""Codecs of the ``key`` stream that use its other columns as context.

Two measured levers on real typing (Aalto 136M keystrokes):

* ``t`` (codec ``pair``): a key-up's time is stored as its *dwell* after the key-down it releases
  (~100 ms, narrow), not as a gap after whatever row came before. Which rows pair up depends on
  ``code`` and ``pressed`` only, so the decoder rebuilds the pairing from those two columns.
* ``text`` (codec ``dictp``): the typed text is almost a function of (code, modifiers, pressed):
  each context's most frequent value is the prediction, and only mispredictions cost bytes.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..backends import codec_kernels
from ..errors import CorruptShardError, check_status
from .columns import Sections, dictionary_array, encode_ints, encode_values, int_param

kernels = codec_kernels()
#: pair_join statuses (ext/_keys.pyx, encoder.codecs.reference.PAIR_COUNTS) -> what they mean
_PAIR_ERRORS = {-1: "the stored anchors and dwells do not match the pairing of the key rows"}

T_CONTEXT = ["code", "pressed"]
TEXT_CONTEXT = ["code", "modifiers", "pressed"]


def encode_t(t: np.ndarray, context: dict) -> tuple[dict, list]:
    anchors, dwells = kernels.pair_split(t, context["code"], context["pressed"])
    params = {"c": "pair", "ctx": T_CONTEXT, "na": len(anchors)}
    params["a"], anchor_sections = encode_ints(anchors)
    params["d"], dwell_sections = encode_ints(dwells)
    return params, anchor_sections + dwell_sections


def decode_t(params: dict, sections: list, n: int, context: dict) -> np.ndarray:
    n_anchors = int_param(params, "na", 0, n)
    cursor = Sections(sections)
    anchors = cursor.ints(params.get("a"), n_anchors, np.int64)
    dwells = cursor.ints(params.get("d"), n - n_anchors, np.int64)
    cursor.done()
    t = np.empty(n, np.int64)
    check_status(kernels.pair_join(context["code"], context["pressed"], anchors, dwells, t), _PAIR_ERRORS,
                 what="key pairing")
    return t


def _context_keys(context: dict) -> np.ndarray:
    """(code, modifiers, pressed) packed into one uint64 per row (49 bits used)."""
    code = context["code"].astype(np.uint64)
    mods = context["modifiers"].astype(np.uint64)
    return (code << np.uint64(17)) | (mods << np.uint64(1)) | context["pressed"].astype(np.uint64)


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each value among them): a hash pass, then a small sort."""
    encoded = pa.array(values).dictionary_encode()
    found = np.asarray(encoded.dictionary)
    order = np.argsort(found, kind="stable")
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))
    return found[order], position[np.asarray(encoded.indices)]


def encode_text(arr: pa.Array, context: dict) -> tuple[dict, list]:
    encoded = arr.dictionary_encode()
    width = len(encoded.dictionary) + 1
    # v = 0 for null, dictionary index + 1 otherwise: nulls are predicted like any value
    v = np.asarray(encoded.indices.fill_null(-1)).astype(np.int64) + 1
    keys, inverse = _distinct(_context_keys(context))
    # the prediction of a context is its most frequent v (ties: the smallest v)
    pairs, pair_index = _distinct(inverse * width + v)
    counts = np.bincount(pair_index, minlength=len(pairs))
    ctx = pairs // width
    order = np.lexsort((-counts, ctx))
    first = np.ones(len(order), bool)
    first[1:] = ctx[order][1:] != ctx[order][:-1]
    pred = (pairs[order][first] % width).astype(np.uint32)
    residual = np.where(v == pred[inverse], 0, v + 1).astype(np.uint32)
    params: dict = {"c": "dictp", "ctx": TEXT_CONTEXT, "n": len(encoded.dictionary), "k": len(keys)}
    sections: list = []
    for name, values in (("keys", keys.astype(np.int64)), ("pred", pred), ("res", residual)):
        params[name], coded = encode_ints(values)
        sections += coded
    return params, sections + encode_values(encoded.dictionary, params)


def decode_text(params: dict, sections: list, n: int, context: dict) -> pa.Array:
    n_values, n_keys = int_param(params, "n", 0, n), int_param(params, "k", 0, n)
    cursor = Sections(sections)
    keys = cursor.ints(params.get("keys"), n_keys, np.int64).view(np.uint64)  # < 2**49
    pred = cursor.ints(params.get("pred"), n_keys, np.uint32)
    residual = cursor.ints(params.get("res"), n, np.uint32)
    dictionary = cursor.values(params, n_values, "string")
    cursor.done()
    if n_keys > 1 and not (keys[1:] > keys[:-1]).all():
        raise CorruptShardError("context table is not sorted")
    where = pc.index_in(pa.array(_context_keys(context)), value_set=pa.array(keys))
    if where.null_count:
        raise CorruptShardError("a row's context is missing from the context table")
    predicted = pred[np.asarray(where)].astype(np.int64) if n else np.zeros(0, np.int64)
    return dictionary_array(np.where(residual == 0, predicted, residual.astype(np.int64) - 1), dictionary)


#: (stream, column) -> encoder; codec name -> decoder. Each codec lists its context columns in
#: params["ctx"]; context columns themselves are always coded without context.
ENCODERS = {("key", "t"): encode_t, ("key", "text"): encode_text}
DECODERS = {"pair": ("int64", T_CONTEXT, decode_t), "dictp": ("string", TEXT_CONTEXT, decode_text)}
