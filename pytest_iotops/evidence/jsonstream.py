"""A JSON document read as a stream: memory follows the largest single value asked for, not the file.

A parser walks the containers it cares about (``for key in stream.members(): ...``, ``for i in
stream.items(): ...``) and takes every other value whole with :meth:`JsonStream.value`, which is the
standard library's C decoder (``raw_decode``) over a sliding buffer, with the same refusals as
:func:`~pytest_iotops.evidence.read.read_json`: duplicate keys, NaN/Infinity, giant integers, deep nesting.

Why not ijson: its C backend (yajl2_c 3.x) crashes the interpreter on a 5,000-digit integer from the hostile
corpus, and its pure-Python backend tokenises in Python, where this decodes each value in C (not measured side
by side here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from ..errors import EvidenceError
from .read import DuplicateKey, check_file, unique_keys

__all__ = ["JsonStream"]

_CHUNK = 1 << 20
_WHITESPACE = " \t\n\r"
_NUMBER = "0123456789.eE+-"
#: an error this close to the buffer's end may only mean the value goes on past it: read more and retry
_MARGIN = 64


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(object_pairs_hook=unique_keys, parse_constant=_no_constant)
#: for values stepped over unread: the C decoder's own dicts, several times faster than a Python hook
_PLAIN = json.JSONDecoder()


class JsonStream:
    """One pass over a JSON file. Use as a context manager; every error is an :class:`EvidenceError`
    naming the file and the character offset."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        check_file(path, max_bytes)
        self.path = path
        self._fh: TextIO = path.open("r", encoding="utf-8-sig", newline="")
        self._buf = ""
        self._pos = 0
        self._offset = 0  # characters dropped from the front of the buffer
        self._eof = False
        self._text_seen = False

    def __enter__(self) -> JsonStream:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._fh.close()

    # -- reading -----------------------------------------------------------------------------------------

    def _fill(self, size: int = 0) -> bool:
        if self._eof:
            return False
        if self._pos > _CHUNK:  # drop what has been read, so the buffer stays about one value long
            self._buf, self._offset, self._pos = self._buf[self._pos :], self._offset + self._pos, 0
        try:
            chunk = self._fh.read(size or _CHUNK)
        except UnicodeDecodeError:
            raise EvidenceError(f"{self.path}: not UTF-8 text (near character {self._where()})") from None
        if not chunk:
            self._eof = True
            return False
        if "\0" in chunk:
            raise EvidenceError(f"{self.path}: NUL byte near character {self._offset + len(self._buf)}: not JSON")
        self._buf += chunk
        return True

    def _where(self, pos: int | None = None) -> int:
        return self._offset + (self._pos if pos is None else pos)

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end of the file)."""
        while True:
            while self._pos < len(self._buf) and self._buf[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buf):
                if not self._text_seen and self._buf[self._pos] == "<":
                    raise EvidenceError(f"{self.path}: expected JSON, but the file looks like XML")
                self._text_seen = True
                return self._buf[self._pos]
            if not self._fill():
                if not self._text_seen:
                    raise EvidenceError(f"{self.path}: file is empty (whitespace only)")
                return ""

    def _take(self, expected: str) -> None:
        found = self.peek()
        if found != expected:
            self._fail(f"expected {expected!r}, found {found!r}" if found else f"expected {expected!r}")
        self._pos += 1

    def _fail(self, what: str) -> None:
        reason = "truncated" if self._eof and self._pos >= len(self._buf) else "unreadable"
        raise EvidenceError(f"{self.path}: not valid JSON ({what} at character {self._where()})", reason)

    def value(self) -> Any:
        """The next value, decoded whole."""
        return self._decode(_DECODER)

    def _decode(self, decoder: json.JSONDecoder) -> Any:
        if not self.peek():
            self._fail("expected a value, the file ends")
        while True:
            try:
                obj, end = decoder.raw_decode(self._buf, self._pos)
            except DuplicateKey as exc:
                message = f"{self.path}: JSON object has the key {exc.args[0]!r} twice: the report contradicts itself"
                raise EvidenceError(message, "contradiction") from None
            except json.JSONDecodeError as exc:
                near_end = exc.pos >= len(self._buf) - _MARGIN or exc.msg.startswith("Unterminated string")
                if near_end and self._fill(max(_CHUNK, len(self._buf) - self._pos)):
                    continue  # the value goes on past the buffer
                reason = "truncated" if near_end and self._eof else "unreadable"
                at = self._where(exc.pos)
                raise EvidenceError(f"{self.path}: not valid JSON ({exc.msg} at character {at})", reason) from None
            except RecursionError:
                raise EvidenceError(f"{self.path}: JSON nested too deeply (near character {self._where()})") from None
            except ValueError as exc:  # an integer of more than 4,300 digits, NaN
                at = self._where()
                raise EvidenceError(f"{self.path}: unreadable JSON value near character {at} ({exc})") from None
            if isinstance(obj, int | float) and not self._buf[end:].strip(_NUMBER) and self._fill():
                continue  # a number at the buffer's end may go on ("1" of "1.5e3")
            self._pos = end
            return obj

    def skip(self) -> None:
        """Step over the next value unread (it must still be JSON); a container member by member, so a huge
        one costs no memory."""
        first = self.peek()
        if first == "{":
            for _ in self.members():
                self._decode(_PLAIN)
        elif first == "[":
            for _ in self.items():
                self._decode(_PLAIN)
        else:
            self._decode(_PLAIN)

    def members(self) -> Iterator[str]:
        """The keys of the object that comes next; the caller reads each member's value (``value``, ``skip``,
        ``members``, ``items``) before asking for the next key. A key seen twice is an error."""
        self._take("{")
        seen: set[str] = set()
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                self._fail("expected an object key")
            key = self.value()
            if key in seen:
                message = f"{self.path}: JSON object has the key {key!r} twice: the report contradicts itself"
                raise EvidenceError(message, "contradiction")
            seen.add(key)
            self._take(":")
            yield key
            if self.peek() == ",":
                self._pos += 1
                continue
            self._take("}")
            return

    def items(self) -> Iterator[int]:
        """The indexes of the array that comes next; the caller reads each element before the next."""
        self._take("[")
        if self.peek() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            if self.peek() == ",":
                self._pos += 1
                continue
            self._take("]")
            return

    def end(self) -> None:
        """Nothing but whitespace may follow the document."""
        if self.peek():
            self._fail("extra data after the document")
