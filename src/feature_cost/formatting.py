"""Numbers and text as the summary, the report and the alerts print them.

Numbers in significant figures (no false precision), ratios as percentages, and text from the
telemetry made safe for a terminal; prices and rows as the seeds' CSV files hold them.
"""

from __future__ import annotations

import csv
import io
import math
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

# ANSI (ECMA-48) escape sequences, in their 7-bit (ESC ...) and 8-bit (C1) forms: control
# sequences (CSI: colours, cursor moves, erasing), control strings (OSC: window titles,
# hyperlinks; DCS, SOS, PM, APC) up to their terminator, and two-character escapes.
_ANSI_ESCAPE = re.compile(
    r"""
    (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|\Z)
    | \x1b [\x20-\x2f]* [\x30-\x7e]?
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def sig(value: float | None, digits: int = 3) -> str:
    """``value`` rounded to ``digits`` significant figures, with thousands separators.

    ``None`` and NaN print as ``-``. Trailing zeros that are significant are kept
    (``0.1 -> "0.100"``), so the printed figure shows exactly ``digits`` figures.
    """
    if value is None or math.isnan(value):
        return "-"
    if value == 0:
        return "0"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    rounded = float(f"{value:.{digits}g}")
    exponent = math.floor(math.log10(abs(rounded)))
    decimals = max(0, digits - 1 - exponent)
    return f"{rounded:,.{decimals}f}"


def percent(ratio: float | None, digits: int = 3) -> str:
    """A ratio as a signed percentage to ``digits`` significant figures (``-0.0906 -> -9.06%``)."""
    if ratio is None or math.isnan(ratio):
        return "-"
    text = sig(ratio * 100, digits)
    return f"+{text}%" if ratio > 0 else f"{text}%"


def share(ratio: float | None, digits: int = 3) -> str:
    """A share of a whole (no sign) as a percentage to ``digits`` significant figures."""
    return "-" if ratio is None else f"{sig(ratio * 100, digits)}%"


def printable(value: object) -> str:
    """A value as text that is safe to print to a terminal.

    Ids come from telemetry anyone can send: ANSI escape sequences (colours, cursor moves,
    window titles, hyperlinks) are removed, and every other control or invisible formatting
    character (C0, DEL, C1, bidirectional overrides, line separators) is shown escaped as
    ``\\xNN`` or ``\\uNNNN``, so one line of output stays one line and reads as stored.
    """
    text = _ANSI_ESCAPE.sub("", "" if value is None else str(value))
    return "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    if unicodedata.category(char) not in _ESCAPED_CATEGORIES:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def price_text(value: float) -> str:
    """A price as a seed holds it: plain decimal notation (no exponent, so 2e-08 is
    0.00000002, never 0), without trailing zeros."""
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".") or "0"
    return text


def csv_text(header: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as a seed's CSV text: the header, then each row by column name, `\n` line ends."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def say_no_duckdb_file(command: str, path: object, hint: str) -> None:
    """Tell stderr that ``feature-cost COMMAND`` found no DuckDB file at ``path`` (printed
    through ``printable``) and what to do (``hint``)."""
    print(f"feature-cost {command}: no DuckDB file at {printable(path)}; {hint}", file=sys.stderr)
