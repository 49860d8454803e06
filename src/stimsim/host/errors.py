"""The client's exceptions: a device that does not answer, restarts, or refuses (ERR).

Each ERR code has its own subclass of DeviceError, carrying the code, the key and the
allowed range the device named, so callers can say exactly what was refused and why.
"""

from __future__ import annotations

from ..protocol.codec import Reply
from .results import HelloInfo, Status


class ClientError(Exception):
    """Anything the client reports; the subclasses say what went wrong."""


class DeviceTimeout(ClientError):
    """The device did not answer (silence or damaged replies through every retry)."""

    def __init__(self, line: bytes, attempts: int, url: str = "") -> None:
        self.line = line
        self.attempts = attempts
        where = f" at {url}" if url else ""
        text = line.decode("ascii", "replace").strip()
        super().__init__(f"device{where} not answering: no valid reply to {text!r} after {attempts} attempts")


class LinkLost(ClientError):
    """The port failed or was closed; the client cannot be used any more."""


class BadReply(ClientError):
    """A reply that is well framed but lacks or garbles what the verb promises."""


class ProtocolMismatch(ClientError):
    """The device speaks another protocol version (HELLO's PROTO)."""


class DeviceRestarted(ClientError):
    """The device rebooted (new BOOT id). Its state has been re-read; nothing was re-sent.

    Raised by the first request after the reboot was seen (that request was not sent), or
    by a request in flight when it happened (its outcome is unknown: check the re-read
    state). ``hello`` and ``status`` are the re-read state.
    """

    def __init__(self, old_boot: str | None, new_boot: str, hello: HelloInfo | None = None,
                 status: Status | None = None) -> None:
        self.old_boot = old_boot
        self.new_boot = new_boot
        self.hello = hello
        self.status = status
        super().__init__(f"device restarted (BOOT {old_boot} -> {new_boot}); its state was re-read, "
                         "nothing was re-sent")


class ReadBackMismatch(ClientError):
    """A slot read back after PROG differs from what was written (first field named)."""

    def __init__(self, slot: int, diffs: list[tuple[str, object, object]]) -> None:
        self.slot = slot
        self.diffs = diffs
        self.field, self.written, self.read = diffs[0]
        more = f" (and {len(diffs) - 1} more)" if len(diffs) > 1 else ""
        super().__init__(f"slot {slot} read back differs in {self.field}: wrote {self.written!r}, "
                         f"read {self.read!r}{more}")


_MEANING = {
    "BAD_CRC": "the line arrived damaged",
    "BAD_SYNTAX": "not a line of the protocol",
    "TOO_LONG": "line over 320 bytes",
    "UNKNOWN_VERB": "the device does not know this verb",
    "BAD_ARG": "missing, unknown or malformed argument",
    "OUT_OF_RANGE": "value outside the device's range",
    "UNSAFE": "refused by a safety rule",
    "DENIED": "the role may not do this",
    "LOCKED": "too many failed logins",
    "LIMIT": "outside the clinician's limits",
    "STATE": "not possible now",
    "STALE": "sequence number not newer than the last",
}


class DeviceError(ClientError):
    """An ``ERR`` reply: nothing was changed on the device.

    ``code`` is the protocol error code, ``wire_args`` every KEY=VALUE of the reply,
    ``key``/``minimum``/``maximum``/``reason``/``rule``/``retry_s`` the usual ones (None
    where the reply has none), ``reply`` the reply itself.
    """

    def __init__(self, verb: str, reply: Reply) -> None:
        self.verb = verb
        self.reply = reply
        self.code: str = reply.code or "?"
        self.wire_args: dict[str, str] = reply.as_dict()
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.reply.args_text()
        meaning = _MEANING.get(self.code, "refused")
        return f"{self.verb} refused: {self.code}{' ' + text if text else ''} ({meaning})"

    def _int(self, key: str) -> int | None:
        value = self.wire_args.get(key)
        try:
            return None if value is None else int(value)
        except ValueError:
            return None

    @property
    def key(self) -> str | None:
        return self.wire_args.get("KEY")

    @property
    def minimum(self) -> int | None:
        return self._int("MIN")

    @property
    def maximum(self) -> int | None:
        return self._int("MAX")

    @property
    def reason(self) -> str | None:
        return self.wire_args.get("REASON")

    @property
    def rule(self) -> str | None:
        return self.wire_args.get("RULE")

    @property
    def retry_s(self) -> int | None:
        """LOCKED: seconds until LOGIN is possible again."""
        return self._int("RETRY_S")

    @classmethod
    def of(cls, verb: str, reply: Reply) -> DeviceError:
        return _ERROR_CLASSES.get(reply.code or "", DeviceError)(verb, reply)


class BadCrcError(DeviceError): ...
class BadSyntaxError(DeviceError): ...
class TooLongError(DeviceError): ...
class UnknownVerbError(DeviceError): ...
class BadArgError(DeviceError): ...
class OutOfRangeError(DeviceError): ...
class UnsafeError(DeviceError): ...
class DeniedError(DeviceError): ...
class LockedError(DeviceError): ...
class LimitError(DeviceError): ...
class StateError(DeviceError): ...
class StaleError(DeviceError): ...


_ERROR_CLASSES: dict[str, type[DeviceError]] = {
    "BAD_CRC": BadCrcError, "BAD_SYNTAX": BadSyntaxError, "TOO_LONG": TooLongError,
    "UNKNOWN_VERB": UnknownVerbError, "BAD_ARG": BadArgError, "OUT_OF_RANGE": OutOfRangeError,
    "UNSAFE": UnsafeError, "DENIED": DeniedError, "LOCKED": LockedError, "LIMIT": LimitError,
    "STATE": StateError, "STALE": StaleError,
}


