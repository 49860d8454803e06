"""The serial protocol's lines: CRC, requests, replies, events, and a bounded line reader.

Pure functions over bytes, shared by the virtual generator (device side), the client
(host side) and the conformance suite, so all three frame lines the same way. The ``#SEQ``
prefix is read by :func:`split_seq` alone.

    request = [ "#" SEQ SP ] VERB *( SP ARG ) [ SP "*" CRC ] EOL
    reply   = [ "#" SEQ SP ] ( "OK" / "ERR" SP CODE ) *( SP ARG ) SP "*" CRC EOL
    event   = "!" NAME *( SP ARG ) SP "*" CRC EOL
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .limits import MAX_KEY, MAX_VALUE, MAX_VERB
from .limits import MAX_REPLY as MAX_REPLY  # re-exported: the line limits travel with the codec
from .limits import MAX_REQUEST as MAX_REQUEST
from .limits import SEQ_MAX as SEQ_MAX

_NAME_RE = re.compile(rf"^[A-Z0-9_]{{1,{MAX_VERB}}}$")
_KEY_RE = re.compile(rf"^[A-Z0-9_]{{1,{MAX_KEY}}}$")
_VALUE_RE = re.compile(rf"^[A-Za-z0-9.\-+:,_]{{1,{MAX_VALUE}}}$")
_CRC_RE = re.compile(r"^\*([0-9A-Fa-f]{4})$")

ArgPair = tuple[str | None, str]  #: (KEY, VALUE) or (None, TOKEN)
ArgsLike = Iterable[ArgPair | str] | dict[str, object]


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


# A table makes the CRC cheap enough for soak tests of tens of thousands of lines.
_TABLE = [crc16(bytes([i]), 0) ^ 0 for i in range(256)]


def _crc_fast(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


class CodecError(ValueError):
    """A line that breaks the grammar. ``code`` is the protocol error code to answer."""

    def __init__(self, code: str, detail: str, seq: int | None = None, args: Sequence[ArgPair] = ()) -> None:
        self.code = code
        self.detail = detail
        self.seq = seq
        self.args_ = tuple(args)
        super().__init__(f"{code}: {detail}")


@dataclass(frozen=True)
class Message:
    """Common part of requests, replies and events: the ordered arguments."""

    args: tuple[ArgPair, ...] = ()

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.args:
            if k == key:
                return v
        return default

    def tokens(self) -> tuple[str, ...]:
        return tuple(v for k, v in self.args if k is None)

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.args if k is not None}

    def args_text(self) -> str:
        return " ".join(v if k is None else f"{k}={v}" for k, v in self.args)


@dataclass(frozen=True)
class Request(Message):
    verb: str = ""
    seq: int | None = None
    has_crc: bool = False
    body: bytes = field(default=b"", compare=False)  #: the line without EOL, for resend checks


@dataclass(frozen=True)
class Reply(Message):
    ok: bool = True
    code: str | None = None
    seq: int | None = None

    def __str__(self) -> str:
        head = "OK" if self.ok else f"ERR {self.code}"
        rest = self.args_text()
        return f"{head} {rest}".strip()


@dataclass(frozen=True)
class Event(Message):
    name: str = ""

    def __str__(self) -> str:
        return f"!{self.name} {self.args_text()}".strip()


# --- encoding ------------------------------------------------------------------------


def _norm_args(args: ArgsLike | None) -> list[ArgPair]:
    if args is None:
        return []
    if isinstance(args, dict):
        return [(str(k), str(v)) for k, v in args.items()]
    out: list[ArgPair] = []
    for a in args:
        if isinstance(a, str):
            out.append((None, a))
        else:
            out.append((a[0], str(a[1])))
    return out


def _join(parts: list[str], args: ArgsLike | None) -> str:
    for key, value in _norm_args(args):
        parts.append(value if key is None else f"{key}={value}")
    return " ".join(parts)


def seal(text: str) -> bytes:
    """Append `` *CRC`` and CR LF to a line's text."""
    body = text.encode("ascii")
    return body + b" *%04X\r\n" % _crc_fast(body)


def encode_request(verb: str, args: ArgsLike | None = None, seq: int | None = None, crc: bool = True) -> bytes:
    """A request line; with ``crc=False`` it is what a person would type."""
    parts = [f"#{seq}"] if seq is not None else []
    parts.append(verb.upper())
    text = _join(parts, args)
    return seal(text) if crc else text.encode("ascii") + b"\r\n"


def encode_reply(seq: int | None, ok: bool, code: str | None = None, args: ArgsLike | None = None) -> bytes:
    parts = [f"#{seq}"] if seq is not None else []
    parts.extend(["OK"] if ok else ["ERR", str(code)])
    return seal(_join(parts, args))


def encode_event(name: str, args: ArgsLike | None = None) -> bytes:
    return seal(_join([f"!{name}"], args))


# --- decoding ------------------------------------------------------------------------


def _check_printable(line: bytes, seq: int | None) -> None:
    for b in line:
        if b < 0x20 or b > 0x7E:
            raise CodecError("BAD_SYNTAX", f"byte 0x{b:02X} is not printable ASCII", seq)


def split_seq(text: str, *, strict: bool = True) -> tuple[int | None, str]:
    """Take a leading ``#SEQ`` token off a line: (SEQ, the rest of the line).

    Whitespace before and after the token is skipped. A line without a leading ``#`` token
    gives (None, text). A ``#`` token that is no SEQ (1 to 5 digits, 1..65535) raises
    CodecError BAD_SYNTAX, or with ``strict=False`` gives (None, the rest).
    """
    parts = text.split(None, 1)
    if not parts or not parts[0].startswith("#"):
        return None, text
    token = parts[0]
    rest = parts[1] if len(parts) > 1 else ""
    digits = token[1:]
    if 1 <= len(digits) <= 5 and digits.isascii() and digits.isdigit() and 1 <= int(digits) <= SEQ_MAX:
        return int(digits), rest
    if strict:
        raise CodecError("BAD_SYNTAX", f"'{token}' is not a sequence number 1..{SEQ_MAX}", None)
    return None, rest


def prefix_seq(line: bytes) -> int | None:
    """The SEQ of a ``#SEQ `` prefix at the very start of a raw line, whatever follows it.

    Read before anything else is checked, so a reply to a damaged line can echo it.
    """
    head, space, _ = line[:7].decode("ascii", "replace").partition(" ")
    if not space or not head.startswith("#") or not head[1:].isdigit():
        return None  # "#", digits and one space at the very start: no leading tab, no other blank
    seq, rest = split_seq(head, strict=False)
    return seq if not rest else None


def _split(line: bytes, limit: int) -> tuple[list[str], int | None, int | None, bytes]:
    """Split a line into tokens; returns (tokens, seq, crc, signed_part)."""
    if len(line) > limit:
        raise CodecError("TOO_LONG", f"{len(line)} bytes (at most {limit})")
    seq = prefix_seq(line)
    _check_printable(line, seq)
    text = line.decode("ascii")
    crc = None
    signed = line
    star = text.rfind(" *")
    if star >= 0 and _CRC_RE.match(text[star + 1 :]):
        crc = int(text[star + 2 :], 16)
        signed = line[:star]
        text = text[:star]
    token_seq, rest = split_seq(text)
    if token_seq is not None:
        seq = token_seq
    return rest.split(), seq, crc, signed


def _parse_args(tokens: Sequence[str], seq: int | None) -> tuple[ArgPair, ...]:
    out: list[ArgPair] = []
    for tok in tokens:
        key, eq, value = tok.partition("=")
        if eq:
            key = key.upper()
            if not _KEY_RE.match(key):
                raise CodecError("BAD_SYNTAX", f"'{key}' is not a key", seq)
            if not _VALUE_RE.match(value):
                raise CodecError("BAD_SYNTAX", f"value of {key} is empty, too long or has a bad character", seq,
                                 [("KEY", key)])
            out.append((key, value))
        else:
            if not _VALUE_RE.match(tok):
                raise CodecError("BAD_SYNTAX", f"'{tok[:20]}' is not an argument", seq)
            out.append((None, tok))
    return tuple(out)


def parse_request(line: bytes, limit: int = MAX_REQUEST) -> Request:
    """Parse one request line (no EOL). Raises CodecError for TOO_LONG/BAD_SYNTAX/BAD_CRC.

    A STOP line is still recognised when its CRC is wrong: the error carries ``verb_hint``
    through ``CodecError.args_`` so a device can execute it anyway.
    """
    tokens, seq, crc, signed = _split(line, limit)
    if not tokens:
        raise CodecError("BAD_SYNTAX", "no verb", seq)
    verb = tokens[0].upper()
    if not _NAME_RE.match(verb):
        raise CodecError("BAD_SYNTAX", f"'{tokens[0][:20]}' is not a verb", seq)
    # BAD_SYNTAX is reported before BAD_CRC (protocol error order), so arguments first.
    args = _parse_args(tokens[1:], seq)
    if crc is not None and _crc_fast(signed) != crc:
        raise CodecError("BAD_CRC", f"CRC {crc:04X} does not match {_crc_fast(signed):04X}", seq,
                         [(None, verb)])
    return Request(args=args, verb=verb, seq=seq, has_crc=crc is not None, body=bytes(line))


def is_stop_line(line: bytes) -> bool:
    """True when a line's verb is STOP, whatever its SEQ or CRC (STOP is always executed)."""
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        return False
    tokens = split_seq(text, strict=False)[1].split()
    return bool(tokens) and tokens[0].upper() == "STOP"


def parse_incoming(line: bytes, limit: int = MAX_REPLY) -> Reply | Event:
    """Parse a line from a device: a reply or an event. The CRC is required and checked."""
    tokens, seq, crc, signed = _split(line, limit)
    if crc is None:
        raise CodecError("BAD_SYNTAX", "no CRC", seq)
    if _crc_fast(signed) != crc:
        raise CodecError("BAD_CRC", "CRC does not match", seq)
    if not tokens:
        raise CodecError("BAD_SYNTAX", "empty line", seq)
    head = tokens[0]
    if head.startswith("!"):
        name = head[1:].upper()
        if seq is not None or not _NAME_RE.match(name):
            raise CodecError("BAD_SYNTAX", f"'{head}' is not an event name", seq)
        return Event(args=_parse_args(tokens[1:], None), name=name)
    if head == "OK":
        return Reply(args=_parse_args(tokens[1:], seq), ok=True, seq=seq)
    if head == "ERR" and len(tokens) >= 2 and _NAME_RE.match(tokens[1]):
        return Reply(args=_parse_args(tokens[2:], seq), ok=False, code=tokens[1], seq=seq)
    raise CodecError("BAD_SYNTAX", f"'{head[:20]}' starts no reply or event", seq)


#: The name the interface contract uses for ``parse_incoming``.
parse_reply = parse_incoming


# --- incremental reading -------------------------------------------------------------


@dataclass(frozen=True)
class Overlong:
    """Marks a line that exceeded the reader's limit; its bytes were discarded."""

    length: int


class LineReader:
    """Split a byte stream into lines, bounded: never holds more than ``limit`` bytes.

    ``feed`` returns complete lines (without CR LF / LF) and an ``Overlong`` marker for
    every line that ran past ``limit`` (its rest is discarded up to the next LF). Blank
    lines (empty or spaces only) are dropped. Garbage and partial lines never raise. A CR
    at the end of a chunk is held as a flag, not in the buffer, until the next byte shows
    whether it was the EOL's, so a line of exactly ``limit`` bytes survives any split.
    """

    def __init__(self, limit: int = MAX_REQUEST) -> None:
        self.limit = limit
        self._buf = bytearray()
        self._cr = False  # the last byte seen was a CR, not yet in the buffer
        self._skipping = 0  # >0 while discarding an overlong line; counts its bytes

    def feed(self, data: bytes) -> list[bytes | Overlong]:
        out: list[bytes | Overlong] = []
        start = 0
        n = len(data)
        while start < n:
            nl = data.find(b"\n", start)
            end = n if nl < 0 else nl
            chunk = data[start:end]
            if self._cr:
                chunk = b"\r" + chunk
                self._cr = False
            if chunk.endswith(b"\r"):
                chunk = chunk[:-1]
                self._cr = nl < 0  # at a LF the CR belongs to the EOL and is dropped
            if self._skipping:
                self._skipping += len(chunk)
            elif len(self._buf) + len(chunk) > self.limit:
                self._skipping = len(self._buf) + len(chunk)
                self._buf.clear()
            else:
                self._buf += chunk
            if nl < 0:
                break
            if self._skipping:
                out.append(Overlong(self._skipping))
                self._skipping = 0
            else:
                line = bytes(self._buf)
                self._buf.clear()
                if line.strip(b" "):
                    out.append(line)
            start = nl + 1
        return out

    def pending(self) -> int:
        """Bytes of an unfinished line held."""
        return len(self._buf)

    def reset(self) -> None:
        self._buf.clear()
        self._cr = False
        self._skipping = 0


def seq_next(seq: int) -> int:
    """The SEQ after ``seq``: 1..65535 round."""
    return 1 if seq >= SEQ_MAX else seq + 1


def seq_ahead(new: int, last: int) -> int:
    """How many steps ``new`` is ahead of ``last`` on the 1..65535 ring (0 = equal)."""
    return (new - last) % SEQ_MAX
