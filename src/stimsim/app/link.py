"""The link to one stimulator: connect, read, poll, restart detection, and the requests.

Runs on the device worker's thread (``worker.DeviceWorker``), which hands it one job at
a time. Everything it learns goes to the :class:`~stimsim.app.model.AppModel` through
``post``, which runs a function on the GUI thread, so the model is only ever touched
there. Every client failure is turned into the model's words here, from the client's
typed errors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from ..engine import params as P
from ..engine.program import DeviceModel, Program
from ..host import lines as codec
from ..host.client import (
    Battery,
    Client,
    ClientError,
    DeviceError,
    DeviceRestarted,
    DeviceTimeout,
    HelloInfo,
    LinkLost,
    ProtocolMismatch,
    StateError,
    TransportError,
    ecap_point,
)
from ..host.client import Status as WireStatus
from ..host.errors import UnknownVerbError
from .battery.words import NO_CHARGER, PRIMARY_NO_CHARGE
from .controller import BUILTIN_LABEL, BUILTIN_URL
from .messages import event_text, fault_text, fmt_ma, refusal_text, restart_text
from .model import AppModel, ClinicianReply, DeviceEvent, Identity, Link, Status
from .wire_tap import WireTap

log = logging.getLogger(__name__)

BATT_POLL_S = 5.0
BATT_POLL_CHARGING_S = 1.0  #: while charging the state rises without events (LOW -> OK): read BATT more often
#: Events after which the battery is read again with the next poll.
_BATTERY_EVENTS = frozenset({"STIM", "BATT", "CHARGE", "FAULT", "TEST"})
_ECAP_EVENTS = frozenset({"ECAP", "ECAPPT"})  #: the closed-loop family's ECAP stream and growth curve

Post = Callable[[Callable[[AppModel], None]], None]  #: run a function with the model on the GUI thread
ClientFactory = Callable[..., Client]


def device_label(url: str) -> str:
    """How the app names a stimulator: the built-in generators in words (another family's
    is ``virtual://builtin-drg``), any other by its URL."""
    if url == BUILTIN_URL:
        return BUILTIN_LABEL
    if url.startswith(f"{BUILTIN_URL}-"):
        return f"{BUILTIN_LABEL} ({url.removeprefix(f'{BUILTIN_URL}-').upper()})"
    return url


class DeviceLink:
    """One connection at a time: its state, what it last read, and the requests on it."""

    def __init__(self, post: Post, factory: ClientFactory = Client.connect, *,
                 on_connected: Callable[[bool], None] = lambda ok: None) -> None:
        self._post = post
        self._factory = factory
        self._on_connected = on_connected
        self.tap = WireTap(lambda line: post(lambda m: m.add_console(line)))
        self.client: Client | None = None
        self.url = ""
        self.state = Link.DISCONNECTED  #: as last posted; read by the GUI thread's watchdog
        self.tripped = False  #: the watchdog showed "not answering" for the request in flight
        self._wire: WireStatus | None = None
        self._slots: dict[int, Program] = {}
        self._battery: Battery | None = None
        self._last_batt = 0.0
        self._boots: dict[str, str] = {}  #: last BOOT id seen per URL: a restart between sessions shows
        self._direction = 0  #: sign of the amplitude change in flight, for "Maximum/Minimum reached"
        self._lock = threading.Lock()

    # --- talking to the model -------------------------------------------------------
    def note(self, text: str) -> None:
        self.tap.note(text)

    def say(self, text: str, level: str = "info", *, about_slot: bool = False, amplitude: bool = False) -> None:
        """A notice; ``about_slot``: it belongs to the active slot (``amplitude``: and amplitude)."""
        wire = self._wire
        slot = wire.slot if about_slot and wire is not None else None
        amp = wire.amp_ua if amplitude and wire is not None else None
        self._post(lambda m: m.set_notice(text, level, slot=slot, amplitude_ua=amp))

    def _set_link(self, link: Link, detail: str) -> None:
        self.state = link
        self._post(lambda m: m.set_link(link, detail))

    # --- connecting -----------------------------------------------------------------
    def open(self, url: str) -> None:
        self.close()
        self.url = url
        label = device_label(url)
        self._set_link(Link.CONNECTING, f"Connecting to {label}…")
        self.note(f"Opening {label}")
        self.tap.reset()
        try:
            client = self._factory(url, on_event=self._on_event, on_line=self.tap.on_line)
        except TransportError as exc:
            self._fail_connect(Link.DISCONNECTED, f"Cannot open {label}: {_reason(exc)}")
            return
        except DeviceTimeout:
            self._fail_connect(Link.NOT_ANSWERING, f"No answer from {label}: is a stimulator connected there?")
            return
        except ProtocolMismatch as exc:
            self._fail_connect(Link.DISCONNECTED, f"{label} speaks another protocol version: {exc}")
            return
        except (ClientError, OSError) as exc:
            self._fail_connect(Link.DISCONNECTED, f"{label}: {exc}")
            return
        self.client = client
        try:
            assert client.info is not None
            self._read_all(client, client.info)
        except ClientError as exc:
            self.client = None
            client.close()
            self._fail_connect(Link.NOT_ANSWERING, f"{label} stopped answering while being read: {exc}")
            return
        boot = client.info.boot if client.info else ""
        before = self._boots.get(url)
        self._boots[url] = boot
        if before is not None and before != boot:
            text = restart_text(before, boot).replace("restarted", "restarted since the last connection", 1)
            self.note(text)
            self._set_link(Link.CONNECTED, text)
            self.say(text, "warning")
        else:
            self._set_link(Link.CONNECTED, f"Connected to {label}")
        self._on_connected(True)

    def _fail_connect(self, link: Link, text: str) -> None:
        self.note(text)
        self._set_link(link, text)
        self.say(text, "error")
        self._on_connected(False)

    def close(self) -> None:
        client, self.client = self.client, None
        self._wire = None
        self.tap.inflight_since = None
        if client is not None:
            client.close()
            self.note("Link closed")

    def disconnect(self) -> None:
        self.close()
        self._set_link(Link.DISCONNECTED, "Disconnected")
        self._post(_forget_device)

    def _lost(self, detail: str) -> str:
        self.close()
        text = "Connection lost: the stimulator's port closed. Press Reconnect when it is back"
        self.note(f"Link lost: {detail}")
        self._set_link(Link.LOST, text)
        self.say(text, "error")
        return text

    # --- running a job ----------------------------------------------------------------
    def guarded(self, run: Callable[[Client], None], name: str) -> str | None:
        """Run one job on the client; turn every client failure into the model's words.

        Returns None when the job succeeded, else what went wrong, in words.
        """
        client = self.client
        if client is None:
            return "No stimulator connected"
        try:
            run(client)
        except DeviceRestarted as exc:
            self._boots[self.url] = exc.new_boot
            return self._restarted(client, exc, name)
        except DeviceError as exc:
            return self._refused(exc)
        except DeviceTimeout:
            self.tap.inflight_since = None
            if self.state is not Link.NOT_ANSWERING:
                self.note(f"No valid answer after {1 + client.retries} attempts")
            self._set_link(Link.NOT_ANSWERING, "The stimulator is not answering. Check the connection, "
                           "then press Reconnect")
            text = "The stimulator did not answer: the change was not confirmed"
            if name != "poll":
                self.say(text, "error")
            return text
        except LinkLost as exc:
            return self._lost(str(exc))
        except ClientError as exc:
            self.note(f"{name}: {exc}")
            text = f"Unexpected answer from the stimulator ({exc})"
            self.say(text, "error")
            return text
        if self.tripped and self.state is Link.CONNECTED:
            self.tripped = False
            self._set_link(Link.CONNECTED, f"Connected to {device_label(self.url)}")
        if self.state is Link.NOT_ANSWERING:
            self._set_link(Link.CONNECTED, "The stimulator answers again")
            self.say("The stimulator answers again")
        return None

    def _restarted(self, client: Client, exc: DeviceRestarted, name: str) -> str:
        old = exc.old_boot or "?"
        text = restart_text(old, exc.new_boot)
        if name not in ("poll", "programs"):
            text += ". Your last request was not sent: press again if you still want it"
        self.note(f"Device restarted: BOOT {old} -> {exc.new_boot}")
        try:
            hello = exc.hello or client.info
            if hello is not None:
                self._read_all(client, hello)
        except ClientError as err:
            self.note(f"re-reading after the restart failed: {err}")
        self._set_link(Link.CONNECTED, text)
        self.say(text, "warning")
        return text

    def _refused(self, exc: DeviceError) -> str:
        text = refusal_text(exc, direction=self._direction)
        if isinstance(exc, StateError) and exc.reason == "FAULT":
            self._fault_found(exc.wire_args.get("CONTACT", "?"), "", f"refused: {exc.reply}")
        self.say(text, "warning", about_slot=True, amplitude=self._direction != 0)
        return text

    def _fault_found(self, contact: str, kind: str, source: str) -> None:
        event = DeviceEvent(time.time(), "FAULT", (("CONTACT", contact), ("KIND", kind)),
                            fault_text(contact, kind), source=source)
        self._post(lambda m: m.note_fault(contact, kind, event))

    # --- reading the device -------------------------------------------------------------
    def _read_all(self, client: Client, hello: HelloInfo) -> None:
        """Everything the app shows: identity, status, battery, every slot."""
        self._post_identity(hello)
        if hello.state_defaults:
            self.say("The stimulator lost its stored settings and started from defaults", "warning")
        self._read_battery(client)
        self._read_slots(client)
        self.publish(client.status())

    def _post_identity(self, hello: HelloInfo) -> None:
        identity = Identity(
            url=self.url, label=device_label(self.url), model=hello.model, firmware=hello.fw, serial=hello.sn,
            boot=hello.boot, proto=hello.proto, slots=hello.slots, strict=hello.strict,
            state_defaults=hello.state_defaults,
        )
        self._post(lambda m: m.set_identity(identity))

    def _read_slots(self, client: Client) -> None:
        slots: dict[int, Program] = {}
        count = client.info.slots if client.info else P.N_SLOTS
        with self.tap.slot_sweep():
            for n in range(1, count + 1):
                try:
                    slots[n] = client.read(n)
                except StateError:
                    continue
        self._slots = slots
        self._post(lambda m: m.set_slots(dict(slots)))

    def _read_battery(self, client: Client) -> None:
        batt = client.batt()
        self._battery = batt
        self._last_batt = time.monotonic()
        info = client.info
        try:
            family = P.Family(info.family) if info is not None else P.Family.SCS_R
        except ValueError:
            family = P.Family.SCS_R  # a family this app does not know: judged as the default's
        device = DeviceModel(chemistry=batt.chemistry.lower(), family=family)
        self._post(lambda m: m.set_device_model(device))

    def publish(self, wire: WireStatus) -> None:
        """Show a STATUS reply (with the last BATT); MRI changes go to the Events list too."""
        with self._lock:
            old, self._wire = self._wire, wire
        batt = self._battery
        status = Status(
            stim_on=wire.stim, slot=wire.slot, amplitude_ua=wire.amp_ua, battery_permille=wire.batt_permille,
            charging=wire.charging, role=wire.role, compliance_limited=wire.compliance_limited, mri=wire.mri,
            test=wire.test, chemistry=batt.chemistry if batt else "", battery_state=batt.state if batt else "",
            battery_mv=batt.vbat_mv if batt else None, hours_left=batt.est_h if batt else None,
        )
        events: list[DeviceEvent] = []
        if old is not None and old.mri != wire.mri:
            args = (("MRI", "1" if wire.mri else "0"),)
            events.append(DeviceEvent(time.time(), "MRI", args, event_text("MRI", dict(args)),
                                      source=f"STATUS: MRI={'1' if wire.mri else '0'}"))

        def apply(m: AppModel) -> None:
            m.set_status(status)
            for event in events:
                m.add_event(event)
        self._post(apply)

    def poll(self, client: Client) -> None:
        self.tap.polling = True
        try:
            charging = self._battery is not None and self._battery.charging
            if time.monotonic() - self._last_batt > (BATT_POLL_CHARGING_S if charging else BATT_POLL_S):
                self._read_battery(client)
            wire = client.status()
        finally:
            self.tap.polling = False
        if self._wire is not None and wire.slot != self._wire.slot and wire.slot not in self._slots:
            self._read_slots(client)
        self.publish(wire)

    # --- the requests (worker thread) ---------------------------------------------------
    def amplitude(self, client: Client, steps: int) -> None:
        self._direction = 1 if steps > 0 else -1
        amp = client.amp_step(steps)
        self.note(f"Amplitude now {fmt_ma(amp)}")
        self.publish(client.status())

    def toggle(self, client: Client) -> None:
        self._direction = 0
        on = not (self._wire.stim if self._wire is not None else False)
        client.stim(on)
        self.publish(client.status())

    def select(self, client: Client, delta: int) -> None:
        self._direction = 0
        current = self._wire.slot if self._wire else 0
        slots = sorted(self._slots)
        if not slots:
            self.say("No programs on this stimulator", "warning")
            return
        if delta > 0:
            target = next((s for s in slots if s > current), slots[0])
        else:
            target = next((s for s in reversed(slots) if s < current), slots[-1])
        if target == current:
            return
        client.select(target)
        self._slots[target] = client.read(target)
        programs = dict(self._slots)
        self._post(lambda m: m.set_slots(programs))
        self.publish(client.status())

    def mri(self, client: Client, on: bool) -> None:
        self._direction = 0
        client.mri(on)
        self.publish(client.status())

    def line(self, client: Client, text: str) -> None:
        """A line typed in the console; what it changed is read back from the device."""
        self._direction = 0
        verb = text.split()[0].upper()
        reply = client.send_text(text)
        if not reply.ok:
            self.note(refusal_text(DeviceError.of(verb, reply)))
        elif verb == "SIM" and reply.get("FAULT"):
            self._simulated_fault(reply.get("FAULT") or "")
        if verb in ("PROG", "ERASE", "SELECT", "HELLO"):
            self._read_slots(client)
        if verb == "HELLO" and client.info is not None:
            self._post_identity(client.info)
        if verb in ("SIM", "BATT"):  # a level set by SIM BATT= rises without an event
            self._read_battery(client)
        self.publish(client.status())

    def _simulated_fault(self, fault: str) -> None:
        """``SIM FAULT=OPEN:4`` on an emulator: the fault is known from its answer."""
        kind, _, contact = fault.partition(":")
        if kind == "NONE":
            self._post(lambda m: m.set_faults({}))
        elif contact:
            self._fault_found(contact, kind, f"SIM reply: FAULT={fault}")

    def load(self, client: Client, programs: tuple[Program, ...], pin: str) -> None:
        """Write ``programs`` as a clinician (login, PROG + read-back, logout); errors propagate."""
        self._direction = 0
        role = client.login(pin)
        self.note(f"Logged in as {role.lower()} to write {len(programs)} program(s)")
        try:
            for prog in programs:
                client.prog(prog, ack=True)
                self.note(f"Slot {prog.slot} written and read back: {prog.name or prog.mode.value}")
        finally:
            client.logout()
        self._read_slots(client)
        self.publish(client.status())

    def start_state(self, client: Client, slot: int | None, stim_on: bool, amp_ua: int | None = None) -> None:
        """The state the command line asked for: ``slot`` active, its amplitude, stimulation on."""
        self._direction = 0
        if slot is not None:
            client.select(slot)
            self._slots[slot] = client.read(slot)
            programs = dict(self._slots)
            self._post(lambda m: m.set_slots(programs))
        if amp_ua is not None:
            client.amp_set(amp_ua)
        if stim_on:
            client.stim(True)
        self.publish(client.status())

    def stop(self, client: Client) -> bool:
        """STOP from its own thread; True when the device confirmed it."""
        try:
            client.stop()
        except (DeviceTimeout, LinkLost) as exc:
            self.say("STOP was not confirmed: the stimulator is not answering. "
                     "Use the magnet or the charger's STOP if you have one", "error")
            self.note(f"STOP not confirmed: {exc}")
            return False
        except ClientError as exc:
            self.say(f"STOP answer not understood: {exc}", "error")
            return False
        wire = self._wire
        if wire is not None:
            self.publish(replace(wire, stim=False))
        self.say("Stimulation stopped")
        return True

    # --- the client's reader thread ---------------------------------------------------
    def _on_event(self, event: codec.Event) -> None:
        if event.name in _ECAP_EVENTS:  # ten a second: the ECAP view plots them, the Events list is spared
            point = ecap_point(event)
            if point is not None and event.name == "ECAP":
                self._post(lambda m: m.add_ecap(point))
            return
        args = tuple((k, v) for k, v in event.args if k is not None)
        values = dict(args)
        text = event_text(event.name, values)
        item = DeviceEvent(time.time(), event.name, args, text)
        self._post(lambda m: m.add_event(item))
        if event.name == "FAULT":
            contact, kind = values.get("CONTACT", "?"), values.get("KIND", "")
            self._post(lambda m: m.note_fault(contact, kind))
        if event.name in _BATTERY_EVENTS:
            self._last_batt = 0.0  # re-read the battery with the next poll
            wire = self._wire
            if event.name == "STIM" and event.get("STIM") == "OFF" and wire is not None:
                self.publish(replace(wire, stim=False))
            self.say(text, "info" if event.name == "CHARGE" else "warning")

    # --- the clinician's requests (worker thread) ---------------------------------------
    def clinician(self, client: Client, kind: str, run: Callable[[Client], dict[str, object]]) -> None:
        """Run one clinician request and post its outcome as a ``ClinicianReply``.

        A refusal (ERR) is the device's answer, not a link failure: it is posted in words
        and nothing else happens. Link failures are posted too, then raised for ``guarded``.
        """
        self._direction = 0
        try:
            data = run(client)
        except DeviceError as exc:
            refused = ClinicianReply(kind, False, refusal_text(exc), {"code": exc.code, **exc.wire_args})
            self.note(f"{kind}: {exc}")
            self._post(lambda m: m.clinician_reply(refused))
            self.publish(client.status())
            return
        except ClientError as exc:
            failed = ClinicianReply(kind, False, str(exc), {"code": type(exc).__name__})
            self._post(lambda m: m.clinician_reply(failed))
            raise
        done = ClinicianReply(kind, True, "", data)
        self._post(lambda m: m.clinician_reply(done))
        self.publish(client.status())

    def simulate_patient(self, client: Client, faults: dict[str, str], battery_permille: int | None) -> None:
        """A scenario's implant on a simulating stimulator: its faulty contacts (the rest
        cleared) and its battery level; a board without SIM keeps its own, said in words."""
        try:
            client.sim_fault("NONE")
            for contact, kind in faults.items():
                client.sim_fault(f"{kind}:{contact.upper()}")
            if battery_permille is not None:
                client.sim_batt(battery_permille)
        except UnknownVerbError:
            self.say("This stimulator does not simulate (no SIM): the scenario's contact faults and battery "
                     "level are not set on it", "warning")
            return
        self._read_battery(client)

    def login_at_start(self, client: Client, pin: str) -> None:
        """``--login``: log in as clinician; a refused PIN raises, so the start-up says why."""
        role = client.login(pin)
        done = ClinicianReply("login", True, "", {"role": role})
        self._post(lambda m: m.clinician_reply(done))
        self.publish(client.status())

    def clinician_write(self, client: Client, program: Program, ack: bool) -> dict[str, object]:
        """PROG + READ back, compared field by field by the client; the slots are re-read."""
        back = client.prog(program, ack=ack)
        self._read_slots(client)
        return {"program": back}

    def clinician_erase(self, client: Client, slot: int) -> dict[str, object]:
        client.erase(slot)
        self._read_slots(client)
        return {"slot": slot}

    # --- the battery view's requests (worker thread) -------------------------------------
    def charge(self, client: Client, on: bool) -> None:
        """Put the simulated charger on or off (``SIM CHARGE=``); a board without SIM is said in words."""
        self._direction = 0
        try:
            client.sim_charge(on)
        except UnknownVerbError:
            self.note(f"SIM CHARGE={'1' if on else '0'}: the stimulator does not know SIM")
            self.say(NO_CHARGER, "warning")
            return
        except StateError as exc:
            if exc.reason != "PRIMARY":
                raise
            self.say(PRIMARY_NO_CHARGE, "warning")
            return
        self._read_battery(client)
        self.publish(client.status())

    def read_battery(self, client: Client) -> None:
        """Read BATT now (the battery view asks when it is shown)."""
        self._read_battery(client)
        self.publish(client.status())

    # --- the ECAP view's requests (worker thread; the closed-loop family) ---------------------
    def closed_loop(self, client: Client) -> bool:
        """Whether the stimulator is of the closed-loop family (SCS-CL)."""
        return client.info is not None and client.info.family == P.Family.SCS_CL.value

    def sim_posture(self, client: Client, posture: str) -> None:
        """Move the device's virtual nerve to ``posture`` (SCS-CL only; another family has none)."""
        if self.closed_loop(client):
            client.sim_posture(posture.upper())
            self.publish(client.status())

    def sim_cough(self, client: Client) -> None:
        if self.closed_loop(client):
            client.sim_cough()
            self.publish(client.status())

    def ecap_stream(self, client: Client, on: bool) -> None:
        if self.closed_loop(client):
            client.ecap_stream(on)

    # --- files and records --------------------------------------------------------------
    def reread_slots(self, client: Client) -> None:
        """After a program set was sent: the slots and status as the device has them now."""
        self._read_slots(client)
        self.publish(client.status())


def _forget_device(m: AppModel) -> None:
    m.set_status(Status())
    m.set_identity(Identity())
    m.set_slots({})


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "No such file" in text or "could not open port" in text:
        return "no such port (is the cable plugged in, or the emulator running?)"
    if "Permission denied" in text:
        return "permission denied (on Linux, add yourself to the dialout group)"
    if "Connection refused" in text:
        return "connection refused (nothing listens on that address)"
    return text

