#!/usr/bin/env python3
"""Draws the monitor's PNG icons into resources/icons (standard library only).

Run from the repository root: python3 scripts/make_icons.py
"""
import math
import struct
import zlib
from pathlib import Path

SIZE = 64


def png(path, pixel):
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x + 0.5, y + 0.5)) for x in range(SIZE)) for y in range(SIZE))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) +
                     chunk(b"IEND", b""))


def app_icon(x, y):  # a disk (three stacked platters) with a lock hole
    cx = SIZE / 2
    for top in (12, 26, 40):
        dy = (y - top - 6) / 7
        dx = (x - cx) / 26
        if dx * dx + dy * dy <= 1:
            return (40, 90, 170, 255) if top != 26 else (70, 130, 210, 255)
    return (0, 0, 0, 0)


def release_icon(x, y):  # an open padlock
    cx = SIZE / 2
    body = 14 <= x <= 50 and 30 <= y <= 56
    r = math.hypot(x - (cx + 8), y - 26)
    shackle = 11 <= r <= 16 and y <= 26
    return (200, 70, 50, 255) if body or shackle else (0, 0, 0, 0)


def export_icon(x, y):  # a page with an arrow
    page = 14 <= x <= 46 and 8 <= y <= 56 and not (18 <= x <= 42 and 12 <= y <= 52)
    arrow = (30 <= x <= 34 and 20 <= y <= 44) or (abs(x - 32) <= (y - 36) and 36 <= y <= 46)
    return (60, 140, 60, 255) if page or arrow else (0, 0, 0, 0)


def refresh_icon(x, y):  # a ring with a gap
    r = math.hypot(x - 32, y - 32)
    angle = math.atan2(y - 32, x - 32)
    ring = 16 <= r <= 22 and not (-0.6 < angle < 0.2)
    return (50, 110, 180, 255) if ring else (0, 0, 0, 0)


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "resources" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    for name, fn in {"diskcache": app_icon, "release": release_icon, "export": export_icon,
                     "refresh": refresh_icon}.items():
        png(out / f"{name}.png", fn)
