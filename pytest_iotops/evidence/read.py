"""Reading evidence files safely: one hardened XML parser, bounded JSON, and errors that name the file.

XML: entity declarations are refused before parsing (XXE, billion laughs), DTDs are never loaded, the network
is never used, and big documents are parsed as a stream so memory stays flat. Anything wrong with a file —
missing, empty, truncated, the wrong format — is an :class:`EvidenceError` naming the file and the problem.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from ..errors import EvidenceError

__all__ = [
    "DuplicateKey",
    "as_dict",
    "check_file",
    "expect",
    "iter_text_lines",
    "iter_xml",
    "iter_xml_events",
    "local_name",
    "read_json",
    "read_json_lines",
    "read_text",
    "unique_keys",
    "xml_root_tag",
]

_PROLOG_LIMIT = 1024 * 1024
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_BOM = b"\xef\xbb\xbf"
#: never resolve entities, never load a DTD, never touch the network, keep lxml's own size limits
_HARDENED: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def check_file(path: Path, max_bytes: int) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise EvidenceError(f"{path}: file not found") from None
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read: {exc.strerror}") from None
    if not path.is_file():
        raise EvidenceError(f"{path}: not a file")
    if size == 0:
        raise EvidenceError(f"{path}: file is empty")
    if max_bytes and size > max_bytes:
        raise EvidenceError(f"{path}: {size} bytes is over the limit of {max_bytes} (max_bytes)")
    return size


def _prolog(path: Path) -> bytes:
    """Everything before the root element, checked for what a hardened parser must refuse."""
    with path.open("rb") as fh:
        head = fh.read(_PROLOG_LIMIT)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # XML parsers must read UTF-16 too
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    body = head[len(_BOM) :] if head.startswith(_BOM) else head
    stripped = body.lstrip()
    if stripped[:1] in (b"{", b"["):
        raise EvidenceError(f"{path}: expected XML, but the file looks like JSON")
    if not stripped.startswith(b"<"):
        raise EvidenceError(f"{path}: expected XML, but the file does not start with '<'")
    match = _ROOT_START.search(body)
    if match is None:
        raise EvidenceError(f"{path}: no XML root element in the first {_PROLOG_LIMIT} bytes")
    prolog = body[: match.start()]
    if b"<!ENTITY" in prolog.upper():
        raise EvidenceError(
            f"{path}: XML entity declarations are not allowed (refused as a possible XXE or entity-expansion attack)",
            "unsafe",
        )
    return prolog


def iter_xml(path: Path, tags: tuple[str, ...], max_bytes: int) -> Iterator[etree._Element]:
    """Yield each completed element with one of ``tags`` (namespace ignored), then free it.

    The caller must read what it needs from the element before asking for the next one.
    """
    for _event, element in iter_xml_events(path, tags, tags, max_bytes, events=("end",)):
        yield element


def iter_xml_events(
    path: Path,
    tags: tuple[str, ...],
    free: tuple[str, ...],
    max_bytes: int,
    events: tuple[str, ...] = ("start", "end"),
) -> Iterator[tuple[str, etree._Element]]:
    """Yield ``(event, element)`` for elements with one of ``tags``; after the caller has seen the end of an
    element in ``free`` it is freed with its earlier siblings, so memory stays flat whatever the file's size."""
    check_file(path, max_bytes)
    _prolog(path)
    freed = set(free)
    with path.open("rb") as fh:  # our own handle: closed even when the caller stops early
        try:
            # the tag filter runs in C: the Python loop sees only the wanted elements, not every <line>
            context = etree.iterparse(fh, events=events, tag=[f"{{*}}{t}" for t in tags], **_HARDENED)
            checked = False
            for event, element in context:
                checked = checked or _refuse_dtd(element, path)
                yield event, element
                if event == "end" and local_name(element.tag) in freed:
                    element.clear(keep_tail=False)
                    parent = element.getparent()
                    if parent is not None:  # drop finished siblings too, or memory grows with the file
                        while element.getprevious() is not None:
                            del parent[0]
        except etree.XMLSyntaxError as exc:
            raise EvidenceError(f"{path}: not well-formed XML ({_clean(exc)})", _xml_reason(exc, path)) from None


def _refuse_dtd(element: etree._Element, path: Path) -> bool:
    """The parser's own view, not a text scan (which a comment or another encoding can fool): a document whose
    DOCTYPE declares entities or elements is refused. A bare external DOCTYPE, as coverage.py writes, is
    harmless: DTDs are never loaded."""
    dtd = element.getroottree().docinfo.internalDTD
    if dtd is not None and (any(True for _ in dtd.iterentities()) or any(True for _ in dtd.iterelements())):
        raise EvidenceError(
            f"{path}: XML with an internal DTD subset (entity declarations) is refused as a possible entity attack",
            "unsafe",
        )
    return True


def _xml_reason(exc: etree.XMLSyntaxError, path: Path) -> str:
    """A document that ends before its elements close, or whose error is at its very end, is cut short;
    anything else is malformed."""
    text = str(exc)
    if "Premature end" in text or "EndTag" in text or "not finished" in text:
        return "truncated"
    line, column = getattr(exc, "position", None) or (0, 0)
    lines, last = 1, b""
    with path.open("rb") as fh:  # count lines in chunks: the file may be large
        while chunk := fh.read(1 << 20):
            lines += chunk.count(b"\n")
            last = (last + chunk)[-65536:]
    body = last.rstrip(b"\r\n\t ")
    lines -= last[len(body) :].count(b"\n")  # newlines after the last content
    at_end = line >= lines and column >= len(body.rsplit(b"\n", 1)[-1]) - 1
    return "truncated" if at_end else "unreadable"


def xml_root_tag(path: Path, max_bytes: int) -> str:
    """The local name of the root element, reading no further than its start tag."""
    check_file(path, max_bytes)
    _prolog(path)
    with path.open("rb") as fh:
        try:
            for _event, element in etree.iterparse(fh, events=("start",), **_HARDENED):
                _refuse_dtd(element, path)
                return local_name(element.tag)
        except etree.XMLSyntaxError as exc:
            raise EvidenceError(f"{path}: not well-formed XML ({_clean(exc)})", _xml_reason(exc, path)) from None
    raise EvidenceError(f"{path}: no XML root element")  # pragma: no cover - lxml raises first


def local_name(tag: object) -> str:
    """``{ns}name`` -> ``name``, by text: lxml's QName refuses names its recovering parser still hands out
    (``<:\x01`` gives a tag ``:``), and a refusal there would be a crash instead of a wrong-root error."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _clean(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]


def read_text(path: Path, max_bytes: int) -> str:
    check_file(path, max_bytes)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvidenceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise EvidenceError(f"{path}: file is empty (whitespace only)")
    if "\0" in text:
        raise EvidenceError(f"{path}: NUL byte at offset {text.index(chr(0))}: not a text report")
    return text


def iter_text_lines(path: Path, max_bytes: int) -> Iterator[tuple[int, str, bool]]:
    """``(number, line, ended)`` for each line of a UTF-8 text file, read as a stream (memory stays flat
    whatever the size); ``ended`` is False for a last line without its line break (where a cut file ends).
    The same refusals as :func:`read_text`: not UTF-8, NUL bytes, nothing but whitespace."""
    check_file(path, max_bytes)
    seen_text = False
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        number = 0
        try:
            for number, raw in enumerate(fh, 1):
                if "\0" in raw:
                    raise EvidenceError(f"{path}: line {number}: NUL byte: not a text report")
                seen_text = seen_text or bool(raw.strip())
                yield number, raw.rstrip("\r\n"), raw.endswith(("\n", "\r"))
        except UnicodeDecodeError as exc:
            raise EvidenceError(f"{path}: not UTF-8 text (line {number + 1}, byte {exc.start} of it)") from None
    if not seen_text:
        raise EvidenceError(f"{path}: file is empty (whitespace only)")


def read_json(path: Path, max_bytes: int) -> Any:
    text = read_text(path, max_bytes)
    stripped = text.lstrip()
    if stripped.startswith("<"):
        raise EvidenceError(f"{path}: expected JSON, but the file looks like XML")
    try:
        return json.loads(text, object_pairs_hook=unique_keys)
    except DuplicateKey as exc:
        raise EvidenceError(
            f"{path}: JSON object has the key {exc.args[0]!r} twice: the report contradicts itself", "contradiction"
        ) from None
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")  # the text ran out
        reason = "truncated" if cut else "unreadable"
        raise EvidenceError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", reason
        ) from None
    except RecursionError:
        raise EvidenceError(f"{path}: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise EvidenceError(f"{path}: unreadable JSON value ({exc})") from None


class DuplicateKey(ValueError):
    pass


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON objects with a key twice: Python keeps the last, so the friendlier half could win; refused."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return out


def read_json_lines(path: Path, max_bytes: int) -> Iterator[tuple[int, Any]]:
    """JSON Lines (one object per line); blank lines are skipped, a bad line is an error naming it."""
    text = read_text(path, max_bytes)
    if text.lstrip().startswith("<"):
        raise EvidenceError(f"{path}: expected JSON lines, but the file looks like XML")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line, object_pairs_hook=unique_keys)
        except DuplicateKey as exc:
            message = f"{path}: line {number}: the key {exc.args[0]!r} appears twice"
            raise EvidenceError(message, "contradiction") from None
        except json.JSONDecodeError as exc:
            raise EvidenceError(f"{path}: line {number} is not JSON ({exc.msg})") from None
        except RecursionError:
            raise EvidenceError(f"{path}: line {number}: JSON nested too deeply") from None
        except ValueError as exc:
            raise EvidenceError(f"{path}: line {number}: unreadable JSON value ({exc})") from None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: optional sub-objects of tool reports."""
    return value if isinstance(value, dict) else {}


def expect(condition: bool, path: Path, message: str) -> None:
    """Raise an :class:`EvidenceError` for ``path`` unless ``condition`` holds (wrong-schema checks)."""
    if not condition:
        raise EvidenceError(f"{path}: {message}")
