"""TOML as text: the values and tables alvh writes into the files it makes.

A small emitter of what alvh's files use (tables, arrays of tables, strings, numbers,
booleans, dates and date-times) rather than a dependency; what it writes is read back
with the standard ``tomllib`` and alvh's own loader before it is written.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_PLAIN = re.compile(r'[^"\\\x00-\x1f\x7f]*')  # nothing a basic string escapes
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # what a comment may not hold (tab may)


@functools.lru_cache(maxsize=256)
def toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_string(s: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    if _PLAIN.fullmatch(s):
        return f'"{s}"'
    out = []
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_comment(text: str) -> str:
    """``text`` as one comment line: a control character (a newline in a file's name)
    escaped as a basic string would, so it cannot end the comment."""
    return "# " + _CONTROL.sub(lambda m: toml_string(m.group())[1:-1], text)


def toml_value(v: object) -> str:
    """One TOML value (inline: arrays and tables on one line)."""
    kind = type(v)  # the common kinds first, by exact type: a snapshot writes 250,000 rows
    if kind is float and math.isfinite(v):
        return repr(v)
    if kind is str:
        return toml_string(v)
    if kind is dict:
        return _inline_table(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):  # numpy's float64 too: its repr is not a TOML float
        if not math.isfinite(v):
            return "nan" if v != v else ("inf" if v > 0 else "-inf")
        return repr(float(v))
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    if isinstance(v, Mapping):
        return _inline_table(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {type(v).__name__}")


def _inline_table(table: Mapping) -> str:
    inner = ", ".join([f"{toml_key(str(k))} = {toml_value(x)}" for k, x in table.items()])
    return "{ " + inner + " }" if inner else "{}"


def toml_table(name: str, table: Mapping) -> list[str]:
    """``[name]`` with its scalar keys, then its sub-tables and arrays of tables."""
    lines = [f"[{name}]"]
    nested = []
    for k, v in table.items():
        if isinstance(v, Mapping):
            nested.append((k, v, False))
        elif isinstance(v, (list, tuple)) and v and all(isinstance(x, Mapping) for x in v):
            nested.append((k, v, True))
        else:
            lines.append(f"{toml_key(str(k))} = {toml_value(v)}")
    for k, v, many in nested:
        sub = f"{name}.{toml_key(str(k))}"
        lines.append("")
        if many:
            for i, item in enumerate(v):
                if i:
                    lines.append("")
                lines += [f"[[{sub}]]", *toml_table(sub, item)[1:]]
        else:
            lines += toml_table(sub, v)
    return lines
