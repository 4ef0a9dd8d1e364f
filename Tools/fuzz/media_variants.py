#!/usr/bin/env python3
"""Damaged media files for the hostile-input campaign (build time only).

`media_variants(sources, count, seed)` yields (name, bytes): deterministic
mutants of real fixture files: byte flips, truncations, zeroed ranges, chunk
shuffles, and header fields set to extreme values (MP4/MOV box sizes, time
scales, durations, sample counts; Matroska/WebM element sizes; AVI and RIFF
chunk sizes).
"""
import random
import struct

EXTREME32 = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF0, 8, 7, 1000000]


def mp4_boxes(data):
    """(offset, size, type) of every box, walking into container boxes."""
    containers = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta", b"mvex"}
    out = []

    def walk(start, end):
        pos = start
        while pos + 8 <= end:
            size = struct.unpack(">I", data[pos:pos + 4])[0]
            kind = bytes(data[pos + 4:pos + 8])
            if size < 8 or pos + size > end:
                return
            out.append((pos, size, kind))
            if kind in containers:
                walk(pos + 8, pos + size)
            pos += size

    walk(0, len(data))
    return out


def mutate(data, rng):
    data = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:  # byte flips
        for _ in range(rng.choice([1, 4, 32, 256])):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncation
        data = data[: rng.randrange(1, len(data))]
    elif kind == 2:  # a zeroed range
        a = rng.randrange(len(data))
        data[a:a + rng.choice([16, 512, 8192])] = bytes(min(len(data) - a, rng.choice([16, 512, 8192])))
    elif kind == 3:  # two chunks swapped
        n = rng.choice([64, 1024, 8192])
        if len(data) > 3 * n:
            a, b = sorted(rng.sample(range(0, len(data) - n), 2))
            if b - a >= n:
                data[a:a + n], data[b:b + n] = data[b:b + n], data[a:a + n]
    elif kind == 4:  # an MP4 box field set to an extreme value (size, or a field inside)
        boxes = mp4_boxes(data)
        if boxes:
            pos, size, _ = rng.choice(boxes)
            field = pos + rng.choice([0, 8, 12, 16, 20, 24, 28]) if rng.random() < 0.7 else pos
            if field + 4 <= len(data):
                data[field:field + 4] = struct.pack(">I", rng.choice(EXTREME32))
        else:  # not MP4: a 32-bit little-endian field somewhere in the first 4 KB (RIFF/AVI, EBML sizes)
            at = rng.randrange(0, max(1, min(4096, len(data) - 4)))
            data[at:at + 4] = struct.pack("<I", rng.choice(EXTREME32))
    else:  # repeated damage: flips plus a truncation
        for _ in range(8):
            data[rng.randrange(len(data))] = rng.getrandbits(8)
        data = data[: max(1, len(data) - rng.randrange(len(data) // 4 + 1))]
    return bytes(data)


def media_variants(sources, count, seed):
    rng = random.Random(seed)
    blobs = [(name, open(path, "rb").read()) for name, path in sources]
    for i in range(count):
        name, data = blobs[i % len(blobs)]
        yield f"media_{i:05d}_{name}", mutate(data, rng)
