#!/usr/bin/env python3
"""tools/fuzz_h5_seed.py IN.h5 OUT: translate an HDF5 file made by mesogif into the record
program that tests/fuzz/fuzz_h5.c builds files from (format in that file's comment), so that the
fuzzer starts from real results, merged files and checkpoints. Every attribute and dataset of a
type the harness knows is kept; others (none in mesogif's files) are skipped."""
import struct
import sys

import h5py
import numpy as np


def enc_name(s):
    b = s.encode("utf-8")[:255]
    return bytes([len(b)]) + b


def type_code(dt):
    """(code, numpy dtype of the payload) or None."""
    info = h5py.check_string_dtype(dt)
    if info is not None:
        if info.length is None:
            return (2 if info.encoding == "utf-8" else 3), None
        return None  # fixed-length strings: mesogif writes none
    for code, np_t in ((0, "<i8"), (1, "<f8"), (5, "<f4"), (6, "u1"), (7, "<i4")):
        if dt == np.dtype(np_t):
            return code, np.dtype(np_t)
    return None


def payload(code, np_t, value, shape):
    if code in (2, 3):
        flat = np.asarray(value, dtype=object).reshape(-1) if shape else [value]
        out = b""
        for s in flat:
            b = s if isinstance(s, bytes) else str(s).encode("utf-8")
            b = b[:65535]
            out += struct.pack("<H", len(b)) + b
        return out
    return np.asarray(value, dtype=np_t).tobytes()


def head(code, shape, flags=0):
    out = bytes([code | flags, len(shape)])
    for d in shape:
        out += struct.pack("<I", d)
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    prog = b""
    with h5py.File(src, "r") as f:
        items = [("/", f)]
        f.visititems(lambda n, o: items.append(("/" + n, o)))
        for path, obj in items:
            if isinstance(obj, h5py.Dataset):
                tc = type_code(obj.dtype)
                if tc is not None and len(obj.shape) <= 3:
                    flags = 0x80 if obj.compression else 0
                    prog += b"\x01" + enc_name(path) + head(tc[0], obj.shape, flags)
                    prog += payload(tc[0], tc[1], obj[()], obj.shape)
            for an in obj.attrs:
                aid = obj.attrs.get_id(an)
                tc = type_code(aid.dtype)
                shape = aid.shape or ()
                if tc is None or len(shape) > 3:
                    continue
                prog += b"\x00" + enc_name(path) + enc_name(an) + head(tc[0], shape)
                prog += payload(tc[0], tc[1], obj.attrs[an], shape)
    with open(dst, "wb") as out:
        out.write(prog)


if __name__ == "__main__":
    main()
