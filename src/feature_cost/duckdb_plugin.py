"""A dbt-duckdb plugin: SQL functions the OTLP/JSON models need and DuckDB lacks.

The Collector's file exporter can compress its output (``compression: zstd``): by default
each message as a zstd frame of its own behind its length (4 bytes, big-endian), with the
``exporter.file.nativeCompression`` gate as one zstd stream of lines; log shippers gzip rotated
files. DuckDB's ``read_json`` decompresses, but it cannot account for
every line (a bad line either stops the read or is dropped uncounted), and ``read_text`` /
``read_blob`` return compressed bytes. So the lines model reads every file as bytes and
calls ``feature_cost_decompress(filename, content)`` on the ones that are compressed.

Registered through ``plugins`` in ``profiles.yml``; every connection dbt opens gets it.
"""

from __future__ import annotations

import zlib
from typing import Any

import zstandard
from dbt.adapters.duckdb.plugins import BasePlugin

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Refuse to inflate one file beyond this (a decompression bomb, or a file far larger than a
# Collector ever writes): the file is then reported as unreadable, not half-read.
MAX_DECOMPRESSED_BYTES = 8 * 1024**3
# The line a length-prefixed zstd frame that decompresses to nothing becomes.
UNREADABLE_FRAME = b"<a zstd frame that does not decompress>"


def compression_of(content: bytes) -> str | None:
    """``gzip``, ``zstd``, ``zstd_framed`` (length-prefixed zstd frames) or None, from the
    content's magic bytes (not its name)."""
    if content.startswith(GZIP_MAGIC):
        return "gzip"
    if content.startswith(ZSTD_MAGIC):
        return "zstd"
    if content[4:8] == ZSTD_MAGIC:
        return "zstd_framed"
    return None


def _gunzip(content: bytes) -> bytes:
    """Every gzip member, in order; a truncated tail yields what was complete before it."""
    out: list[bytes] = []
    total = 0
    data = content
    while data:
        inflater = zlib.decompressobj(wbits=31)
        try:
            chunk = inflater.decompress(data, MAX_DECOMPRESSED_BYTES - total + 1)
        except zlib.error:
            if not out:
                raise
            break
        out.append(chunk)
        total += len(chunk)
        if total > MAX_DECOMPRESSED_BYTES:
            raise ValueError("decompressed size over the limit")
        if not inflater.eof:
            break  # truncated: keep what was inflated
        data = inflater.unused_data
    return b"".join(out)


def _unzstd(content: bytes) -> bytes:
    """Every zstd frame, in order; a truncated tail yields what was complete before it."""
    reader = zstandard.ZstdDecompressor().stream_reader(content, read_across_frames=True)
    out: list[bytes] = []
    total = 0
    try:
        while chunk := reader.read(1 << 20):
            out.append(chunk)
            total += len(chunk)
            if total > MAX_DECOMPRESSED_BYTES:
                raise ValueError("decompressed size over the limit")
    except zstandard.ZstdError:
        if not out:
            raise
    return b"".join(out)


def _unzstd_framed(content: bytes) -> bytes:
    """Each message of a length-prefixed file (the file exporter's default with compression),
    decompressed, one per line. A frame cut short, as a crash of the writer leaves the last
    one, yields what it decompresses to, which the lines model quarantines as a cut line; a
    frame that yields nothing is the line UNREADABLE_FRAME, quarantined as not JSON."""
    decompressor = zstandard.ZstdDecompressor()
    out: list[bytes] = []
    total = 0
    position = 0
    while position < len(content):
        size = int.from_bytes(content[position : position + 4], "big")
        frame = content[position + 4 : position + 4 + size]
        position += 4 + size
        try:
            message = decompressor.decompressobj().decompress(frame)
        except zstandard.ZstdError:
            message = b""
        out.append((message or UNREADABLE_FRAME) + b"\n")
        total += len(message) + 1
        if total > MAX_DECOMPRESSED_BYTES:
            raise ValueError("decompressed size over the limit")
    return b"".join(out)


def decompress(content: bytes | None) -> bytes | None:
    """The decompressed bytes of a gzip or zstd file, the bytes as they are otherwise.

    None when the content is compressed but nothing of it can be decompressed (the lines
    model then quarantines the whole file as ``unreadable_file``). A truncated file, as a
    crash of its writer leaves it, yields the complete part; its cut last line is then
    quarantined as not valid JSON like any other.
    """
    if content is None:
        return None
    kind = compression_of(content)
    try:
        if kind == "gzip":
            return _gunzip(content)
        if kind == "zstd":
            return _unzstd(content)
        if kind == "zstd_framed":
            return _unzstd_framed(content)
    except (zlib.error, zstandard.ZstdError, ValueError, EOFError):
        return None
    return content


def _decompress_udf(content: bytes | None) -> bytes | None:
    return decompress(content)


class Plugin(BasePlugin):
    """Registers ``feature_cost_decompress(content BLOB) -> BLOB`` on every connection."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.config = plugin_config

    def configure_connection(self, conn: Any) -> None:
        conn.create_function(
            "feature_cost_decompress",
            _decompress_udf,
            ["BLOB"],
            "BLOB",
            null_handling="special",
            side_effects=False,
        )
