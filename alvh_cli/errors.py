"""The one exception type for bad input, and the one warning type for doubtful input.

Both name the file, the key path and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass


class InputError(Exception):
    """Bad input from a file or the command line.

    ``source`` is the file (or option) the input came from, ``key`` the path to
    the offending key (``positions[0].legs[2].strike``), ``line`` the line
    number for syntax errors. ``str()`` gives the one line the CLI prints.
    """

    def __init__(self, message: str, source: str = "", key: str = "", line: int | None = None):
        super().__init__(message)
        self.message = message
        self.source = source
        self.key = key
        self.line = line

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [p for p in (where, self.key) if p]
        return ": ".join([*parts, self.message])

    def located(self, source: str | None = None, key_prefix: str = "") -> InputError:
        """The same error with a file and/or key prefix filled in where missing."""
        key = self.key
        if key_prefix:
            key = f"{key_prefix}.{key}" if key else key_prefix
        return InputError(self.message, self.source or (source or ""), key, self.line)


@dataclass(frozen=True)
class InputWarning:
    """Input alvh can price but a trader should look at: a stale snapshot, a flat smile.

    Found while loading and carried to the output as data (the core never
    prints): ``str()`` is ``file: key: message``, the JSON form
    ``{"source", "key", "message"}``.
    """

    message: str
    source: str = ""
    key: str = ""

    def __str__(self) -> str:
        return ": ".join(p for p in (self.source, self.key, self.message) if p)
