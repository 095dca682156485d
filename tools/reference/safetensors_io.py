"""Minimal, dependency-free reader/writer for the safetensors format.

Layout written here (and expected on read):
  8 bytes  little-endian uint64 N = header length
  N bytes  UTF-8 JSON header: {name: {"dtype", "shape", "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
           keys sorted, compact separators, padded with spaces to a multiple of 8 bytes
  data     raw little-endian tensor bytes, tensors stored in sorted-name order, contiguous

Supported dtypes: F32, F16, BF16 (and I64/I32 for convenience). BF16 is produced from float32 with
round-to-nearest-even (NaN kept quiet). Output bytes depend only on the input arrays and metadata.
"""
import json
import struct

import numpy as np

_NP = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4"),
       "BF16": np.dtype("<u2")}


def f32_to_bf16_bits(a):
    """float32 array -> uint16 bf16 bit patterns, round to nearest even."""
    a = np.ascontiguousarray(a, dtype="<f4")
    u = a.view("<u4").astype(np.uint64)
    nan = np.isnan(a)
    rounding = ((u >> 16) & 1) + 0x7FFF
    r = ((u + rounding) >> 16).astype(np.uint16)
    r[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return r


def bf16_bits_to_f32(b):
    b = np.asarray(b, dtype="<u2")
    return (b.astype(np.uint32) << 16).view("<f4")


class LazyTensor:
    """A float32 tensor made on demand: its shape is known up front, its values only when written.
    save_file writes such tensors one at a time, so a checkpoint never has to fit in memory."""

    def __init__(self, shape, make):
        self.shape = tuple(int(s) for s in shape)
        self._make = make

    def materialize(self):
        arr = np.asarray(self._make(), dtype=np.float32)
        if arr.shape != self.shape:
            raise ValueError("lazy tensor made shape %s, declared %s" % (arr.shape, self.shape))
        return arr


def _plan(name, t, dtype):
    """(safetensors dtype, shape, byte count) of one tensor, without materializing a LazyTensor."""
    if isinstance(t, LazyTensor):
        dt, shape = dtype or "F32", t.shape
    else:
        arr = np.asarray(t)
        shape = arr.shape
        if arr.dtype.kind == "f":
            dt = dtype or {4: "F32", 2: "F16"}[arr.dtype.itemsize]
        elif arr.dtype == np.int64:
            dt = "I64"
        elif arr.dtype == np.int32:
            dt = "I32"
        else:
            raise ValueError("unsupported dtype %s for %s" % (arr.dtype, name))
    n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    return dt, [int(s) for s in shape], n * _NP[dt].itemsize


def _raw(t, dt):
    """The tensor as a contiguous little-endian array of its stored dtype (no bytes copy)."""
    arr = t.materialize() if isinstance(t, LazyTensor) else np.asarray(t)
    if dt == "BF16":
        return f32_to_bf16_bits(arr.astype(np.float32, copy=False)).reshape(-1)
    return np.ascontiguousarray(arr, dtype=_NP[dt]).reshape(-1)


def _header(tensors, dtype, metadata):
    header = {}
    offset = 0
    for name in sorted(tensors):
        dt, shape, nbytes = _plan(name, tensors[name], dtype)
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h, header


def _chunks(tensors, dtype, metadata):
    head, header = _header(tensors, dtype, metadata)
    yield head
    for name in sorted(tensors):
        raw = memoryview(_raw(tensors[name], header[name]["dtype"])).cast("B")
        b, e = header[name]["data_offsets"]
        if raw.nbytes != e - b:
            raise ValueError("%s: %d bytes, header says %d" % (name, raw.nbytes, e - b))
        yield raw


def encode(tensors, dtype=None, metadata=None):
    """tensors: {name: np.ndarray or LazyTensor} (floating tensors are converted to `dtype` if given,
    else kept; a LazyTensor is float32 unless `dtype` says otherwise). Returns bytes."""
    return b"".join(bytes(c) for c in _chunks(tensors, dtype, metadata))


def save_file(tensors, path, dtype=None, metadata=None):
    """Writes the same bytes as encode(), one tensor at a time: peak memory is the largest tensor."""
    size = 0
    with open(path, "wb") as f:
        for chunk in _chunks(tensors, dtype, metadata):
            f.write(chunk)
            size += chunk.nbytes if isinstance(chunk, memoryview) else len(chunk)
    return size


def decode(data, to_float32=True):
    """bytes -> ({name: np.ndarray}, metadata). Floating tensors become float32 if to_float32."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = info["dtype"]
        arr = np.frombuffer(data[base + b:base + e], dtype=_NP[dt]).reshape(info["shape"])
        if dt == "BF16":
            arr = bf16_bits_to_f32(arr) if to_float32 else arr
        elif to_float32 and dt in ("F16", "F32"):
            arr = arr.astype(np.float32)
        out[name] = np.array(arr)
    return out, meta


def load_file(path, to_float32=True):
    with open(path, "rb") as f:
        return decode(f.read(), to_float32=to_float32)


def load_dir(d, to_float32=True):
    """Weights of one checkpoint subfolder, laid out as Hugging Face writes them: a single
    model.safetensors, or the shards named by model.safetensors.index.json ("weight_map": tensor ->
    shard file; the real nvidia/DAM-3B llm/ is two shards). Any of F32/F16/BF16. Returns
    ({name: np.ndarray}, metadata of the first file). Fails if a tensor the index names is missing
    from its shard or appears in two files."""
    import os
    index = os.path.join(d, "model.safetensors.index.json")
    if not os.path.isfile(index):
        return load_file(os.path.join(d, "model.safetensors"), to_float32=to_float32)
    with open(index) as fh:
        weight_map = json.load(fh)["weight_map"]
    out, meta = {}, None
    for shard in sorted(set(weight_map.values())):
        if "/" in shard or "\\" in shard or shard.startswith("."):
            raise ValueError("%s: bad shard name %r" % (index, shard))
        t, m = load_file(os.path.join(d, shard), to_float32=to_float32)
        meta = m if meta is None else meta
        for k, v in t.items():
            if k in out:
                raise ValueError("%s: tensor %s is in two shards" % (d, k))
            out[k] = v
    missing = sorted(k for k in weight_map if k not in out)
    if missing:
        raise ValueError("%s: tensors named by the index but absent from their shards: %s" % (d, missing[:5]))
    return out, meta or {}
