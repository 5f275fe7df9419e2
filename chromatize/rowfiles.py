"""PNG and TIFF written a strip of rows at a time, so a huge output never exists whole in memory.

    write_png(path, width, height, channels, strips, meta=...)   our own writer: 8- or 16-bit RGB (3)
        or RGBA (4); each row filtered with PNG's "Up" filter, zlib level 6 (PIL's default level),
        IDAT chunks of at most 1 MiB; the metadata's chunks (metadata.png_chunks) before the pixels.
        On a colorized 12-MP scan: 1.97 MB in 0.57 s of zlib, where "Sub" gave 3.91 MB in 1.14 s
        and PIL's adaptive filters 2.28 MB (row scores cost more than they gain here). No library
        here writes PNG rows from an iterator at this speed: pypng is pure Python (BENCHMARKS.md,
        "Huge scans").
    write_tiff(path, width, height, channels, strips, meta=...)  tifffile writes the strips as they
        come (one TIFF strip per strip given, uncompressed as PIL writes TIFF by default, BigTIFF
        past 4 GB, without the EXIF directories there) with the resolution, ICC profile, descriptive
        tags, XMP and IPTC; the EXIF and GPS
        directories follow the pixels (metadata.exif_directories) and the main directory points at
        them.

`strips` yields (r, width, channels) arrays, all uint8 or all uint16, top to bottom, r >= 1 rows
each (every strip but the last of the same height for TIFF); their rows must add up to `height`.
Both write to the open path given (callers wrap them in fileio.atomic_write).
"""
from __future__ import annotations

import itertools
import struct
import zlib
from pathlib import Path
from typing import Iterable

import numpy as np
import tifffile

from .metadata import Metadata, exif_directories, png_chunks, tiff_tags

ROW_SUFFIXES = {".png": "png", ".tif": "tiff", ".tiff": "tiff"}
_IDAT_BYTES = 1 << 20
_DEPTHS = (np.uint8, np.uint16)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _up_filter(rows: np.ndarray, above: np.ndarray) -> bytes:
    """(r, W * C * bytes) big-endian row bytes and the row above the first (zeros at the top) ->
    PNG scanlines with filter type 2 (each byte minus the byte above it, modulo 256)."""
    r = rows.shape[0]
    out = np.empty((r, rows.shape[1] + 1), dtype=np.uint8)
    out[:, 0] = 2
    np.subtract(rows[:1], above[None], out=out[:1, 1:], dtype=np.uint8, casting="unsafe")
    np.subtract(rows[1:], rows[:-1], out=out[1:, 1:], dtype=np.uint8, casting="unsafe")
    return out.tobytes()


def _row_bytes(strip: np.ndarray) -> np.ndarray:
    """(r, W, C) uint8 or uint16 -> (r, W * C * bytes) uint8, 16-bit samples big-endian (PNG's order)."""
    return strip.astype(strip.dtype.newbyteorder(">"), copy=False).reshape(strip.shape[0], -1).view(np.uint8)


def write_png(path: str | Path, width: int, height: int, channels: int, strips: Iterable[np.ndarray], *,
              meta: Metadata | None = None) -> None:
    if channels not in (3, 4):
        raise ValueError(f"PNG rows need 3 or 4 channels, got {channels}")
    strips = iter(strips)
    first = next(strips, None)
    depth = 16 if first is not None and first.dtype == np.uint16 else 8
    compressor = zlib.compressobj(6)
    rows_written = 0
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, 2 if channels == 3 else 6, 0, 0, 0)))
        for kind, data in png_chunks(meta or Metadata()):
            f.write(_chunk(kind, data))
        pending, above = b"", np.zeros(width * channels * depth // 8, dtype=np.uint8)
        for strip in itertools.chain([first] if first is not None else [], strips):
            _check_strip(strip, width, channels, np.dtype(f"uint{depth}"))
            rows_written += strip.shape[0]
            rows = _row_bytes(strip)
            pending += compressor.compress(_up_filter(rows, above))
            above = rows[-1].copy()
            while len(pending) >= _IDAT_BYTES:
                f.write(_chunk(b"IDAT", pending[:_IDAT_BYTES]))
                pending = pending[_IDAT_BYTES:]
        _check_height(rows_written, height)
        pending += compressor.flush()
        f.write(_chunk(b"IDAT", pending))
        f.write(_chunk(b"IEND", b""))


def write_tiff(path: str | Path, width: int, height: int, channels: int, strips: Iterable[np.ndarray], *,
               meta: Metadata | None = None) -> None:
    if channels not in (3, 4):
        raise ValueError(f"TIFF rows need 3 or 4 channels, got {channels}")
    meta = meta or Metadata()
    strips = iter(strips)
    first = next(strips, None)
    if first is None:
        _check_height(0, height)
    dtype = first.dtype
    counted = _counted(itertools.chain([first], strips), width, channels, dtype, height)
    extratags = [(code, kind, count, _tiff_value(value), True) for code, kind, count, value in tiff_tags(meta)]
    big = width * height * channels * dtype.itemsize > 4_000_000_000
    subs = [] if big else list(meta.sub)           # Pillow writes the EXIF directories with 4-byte offsets
    extratags += [(tag - 1, 4, 1, 0, True) for tag in subs]     # stand-ins for the pointers (_append_exif)
    with tifffile.TiffWriter(path, bigtiff=big) as tif:
        tif.write(counted, shape=(height, width, channels), dtype=dtype, photometric="rgb",
                  extrasamples=("unassalpha",) if channels == 4 else None, rowsperstrip=first.shape[0],
                  iccprofile=meta.icc, resolution=meta.dpi, resolutionunit=2 if meta.dpi else None,
                  metadata=None, software=False, datetime=False, extratags=extratags)
    if subs:
        _append_exif(path, meta)


def _counted(strips: Iterable[np.ndarray], width: int, channels: int, dtype: np.dtype, height: int):
    rows = 0
    for strip in strips:
        _check_strip(strip, width, channels, dtype)
        rows += strip.shape[0]
        if rows > height:
            _check_height(rows, height)
        yield np.ascontiguousarray(strip)
    _check_height(rows, height)


def _tiff_value(value):
    if hasattr(value, "numerator") and not isinstance(value, int):          # Pillow's IFDRational
        return (value.numerator, value.denominator)
    return value


def _append_exif(path: str | Path, meta: Metadata) -> None:
    """Write the EXIF and GPS directories after everything tifffile wrote, and turn the main
    directory's stand-ins into the pointers at them. tifffile writes no EXIF pointer itself, so
    the stand-ins are tags 34664 and 34852, which sort where 34665 and 34853 belong; their entries
    get the right code and the directory's position."""
    with tifffile.TiffFile(path) as tif:
        order = tif.byteorder
        entries = {tag: tif.pages.first.tags[tag - 1].offset for tag in meta.sub}
    with open(path, "r+b") as f:
        f.seek(0, 2)
        if f.tell() % 2:
            f.write(b"\x00")
        positions, blob = exif_directories(meta, f.tell(), order)
        f.write(blob)
        for tag, entry in entries.items():
            f.seek(entry)
            f.write(struct.pack(f"{order}HHII", tag, 4, 1, positions[tag]))


def _check_strip(strip: np.ndarray, width: int, channels: int, dtype: np.dtype) -> None:
    if strip.dtype not in _DEPTHS or strip.dtype != dtype or strip.ndim != 3 or strip.shape[1:] != (width, channels):
        raise ValueError(f"a strip must be (rows, {width}, {channels}) {np.dtype(dtype).name} (uint8 or uint16), "
                         f"got {strip.shape} {strip.dtype}")


def _check_height(rows: int, height: int) -> None:
    if rows != height:
        raise ValueError(f"the strips hold {rows} rows, the image {height}")
