#!/usr/bin/python3
"""Write the shard log fuzz seeds into corpus/ (deterministic output).

Each seed is a segment file as src/ingest/shardlog.c writes it: a 16-byte
header ("SLSHLOG1", first sequence number) and frames of
len(4) crc(4) seq(8) arrival_ms(8) pk_len(2) pk data, little endian, where
crc is zlib's crc32 of bytes [0,4), [24,end), [8,24) of the frame.
"""
import os
import struct
import zlib

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def frame(seq, ms, pk, data):
    body_tail = struct.pack("<H", len(pk)) + pk + data
    ln = struct.pack("<I", 16 + len(body_tail))
    nums = struct.pack("<Qq", seq, ms)
    crc = zlib.crc32(nums, zlib.crc32(body_tail, zlib.crc32(ln)))
    return ln + struct.pack("<I", crc) + nums + body_tail


def segment(first, recs):
    out = b"SLSHLOG1" + struct.pack("<Q", first)
    for i, (ms, pk, data) in enumerate(recs):
        out += frame(first + i, ms, pk, data)
    return out


def main():
    os.makedirs(HERE, exist_ok=True)
    recs = [(1000 + i // 3, b"key-%d" % i, bytes((i * 7 + k) & 255 for k in range(i * 11 % 90)))
            for i in range(12)]
    good = segment(1, recs)
    seeds = {
        "empty-segment.seg": segment(1, []),
        "header-only-cut.seg": good[:9],
        "twelve-records.seg": good,
        "torn-last-frame.seg": good[:-5],
        "bad-crc-middle.seg": good[:200] + bytes([good[200] ^ 1]) + good[201:],
        "seq-gap.seg": segment(1, recs[:3]) + frame(9, 2000, b"k", b"gap"),
        "time-goes-back.seg": segment(1, recs[:2]) + frame(3, 10, b"k", b"old"),
        "max-key.seg": segment(1, [(5, b"p" * 256, b"x" * 64), (6, b"q", b"")]),
        "wrong-first-seq.seg": segment(7, recs[:2]),
        "zero-tail.seg": good + bytes(64),
    }
    for name, data in seeds.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


main()
