"""The one exception type for bad input, and the one warning type for doubtful input.

Both name the file, the key path and what is wrong. A bad parameter of a library call is
named by its role (``option="history"``), never by a command-line flag: the command line
maps roles to its flags in one table (``alvh_cli.cli.FLAGS``). A message that points at
another parameter writes it ``{flag:sweep}``; :func:`name_flags` names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_FLAG = re.compile(r"\{flag:(\w+)\}")


def name_flags(text: str, flags: Mapping[str, str] | None = None) -> str:
    """``text`` with each ``{flag:role}`` replaced by ``flags[role]`` (the command line's
    flag), or by the role itself (the parameter's name, for a library caller)."""
    table = flags or {}
    return _FLAG.sub(lambda m: table.get(m.group(1), m.group(1)), text)


def as_option(role: str) -> str:
    """A role written as a command-line option: ``vix_expiry`` → ``--vix-expiry`` (how
    the command line names its options; its table ``alvh_cli.cli.FLAGS`` has the rest)."""
    return "--" + role.replace("_", "-")


def options_named(text: str) -> str:
    """``text`` with each ``{flag:role}`` written as its option (:func:`as_option`)."""
    return _FLAG.sub(lambda m: as_option(m.group(1)), text)


class InputError(Exception):
    """Bad input from a file or the command line.

    ``source`` is the file the input came from, ``option`` the role of the parameter
    that carried it when it is not a file's content (``"history"``, ``"vix_expiry"``),
    ``key`` the path to the offending key (``positions[0].legs[2].strike``), ``line``
    the line number for syntax errors. ``str()`` gives the one line, with parameters
    named by their roles; :meth:`for_command_line` names them by their flags.
    """

    def __init__(
        self,
        message: str,
        source: str = "",
        key: str = "",
        line: int | None = None,
        *,
        option: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.source = source
        self.key = key
        self.line = line
        self.option = option

    def __str__(self) -> str:
        where = self.source or name_flags(f"{{flag:{self.option}}}" if self.option else "")
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [p for p in (where, self.key) if p]
        return ": ".join([*parts, name_flags(self.message)])

    def located(self, source: str | None = None, key_prefix: str = "") -> InputError:
        """The same error with a file and/or key prefix filled in where missing."""
        key = self.key
        if key_prefix:
            key = f"{key_prefix}.{key}" if key else key_prefix
        return InputError(
            self.message, self.source or (source or ""), key, self.line, option=self.option
        )

    def for_command_line(self, flags: Mapping[str, str]) -> InputError:
        """The same error as the command line says it: the parameter as its flag (the
        error's ``source``), and each ``{flag:role}`` of the message as that flag."""
        source = self.source
        if not source and self.option:
            source = flags.get(self.option, self.option)
        return InputError(name_flags(self.message, flags), source, self.key, self.line)


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


def special_kind(mode: int) -> str:
    """What a file that is neither a regular file nor a directory is (``st_mode``), in a
    trader's words, for the one-line errors of readers and writers alike."""
    import stat

    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def printable(text: str) -> str:
    """``text`` with each character a terminal would act on or not show (control
    characters, an escape sequence's ESC, line and paragraph separators, a bidi override)
    written as its escape, ``\\n``, ``\\x1b``, ``\\u202e``: a message about a file whose
    name holds one stays one line and says what the name is."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )
