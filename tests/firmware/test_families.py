"""The stub keeps every device family's rules as the Python generator does.

Each family's stub (``stimfw-host --family F``) and a virtual generator of the same family
are sent the same lines, built from the parameter table: every parameter of every mode at
the edges of the family's range and grid, modes and contacts the family lacks, the DRG
bipolar rule, patient steps, the battery. Their replies must be equal (HELLO's identity
and the battery's figures of the moment aside); a few lines are also held to the
contract's own words, so that both sides being wrong alike would not pass.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from stimsim.engine import params as P
from stimsim.generator.virtual_generator import VirtualGenerator
from stimsim.protocol import codec
from stimsim.protocol.codec import Event, Reply

from .stub_support import HOST, STUB_DIR, Stub, proof, running

pytestmark = pytest.mark.usefixtures("stub_build")

Line = tuple[str, dict[str, object] | list[str]]
#: HELLO's keys that name the device rather than its behaviour
_IDENTITY = {"MODEL", "FW", "SN", "BOOT"}
#: BATT's keys that move with the time each side has run
_MOMENT = {"BATT", "VBAT_MV", "EST_H"}

_ELEC = "1:-100,2:+100"  #: bipolar on lead A: every family takes it
_BASE: dict[P.Mode, dict[str, object]] = {
    P.Mode.TONIC: {"MODE": "TONIC", "AMP": 1000, "PW": 200, "RATE": 40, "ELEC": _ELEC},
    P.Mode.BURST: {"MODE": "BURST", "AMP": 1000, "PW": 200, "RATE": 40, "BURST_N": 3, "INTRA_HZ": 500,
                   "ELEC": _ELEC},
    P.Mode.HF: {"MODE": "HF", "AMP": 1000, "PW": 30, "RATE": 10000, "ELEC": _ELEC},
}


class Virtual:
    """A virtual generator of one family, answering lines as the stub does."""

    def __init__(self, family: P.Family) -> None:
        self.gen = VirtualGenerator(lambda: 0.0, rng_seed=1, family=family)

    def request(self, verb: str, args: dict[str, object] | list[str] | None = None) -> Reply:
        out = self.gen.receive(codec.encode_request(verb, args))
        replies = [m for m in (codec.parse_incoming(raw) for raw in out.splitlines() if raw)
                   if not isinstance(m, Event)]
        assert len(replies) == 1, out
        return replies[0]

    def login(self, pin: str = "0000") -> Reply:
        nonce = self.request("LOGIN").get("NONCE")
        assert nonce is not None
        return self.request("LOGIN", {"PROOF": proof(pin, nonce)})


def _edges(spec: P.ParamSpec) -> list[int]:
    """Just inside and just outside the range, and on and off each band of the grid."""
    values = [spec.minimum - 1, spec.minimum, spec.maximum, spec.maximum + 1]
    if spec.grid is not None:
        for start, spacing in spec.grid.bands:
            values += [start - 1, start, start + spacing, start + spacing + 1]
    return sorted({v for v in values if v >= 0})


def _prog_lines(family: P.Family) -> Iterator[dict[str, object]]:
    """PROG lines: each mode's base program, then one parameter or limit at a time at its edges."""
    for mode in P.Mode:
        base = {"SLOT": 2, **_BASE[mode]}
        yield base
        if mode not in P.family_modes(family):
            continue
        for key, spec in P.family_params(family, mode).items():
            for value in _edges(spec):
                yield {**base, spec.wire: value}
            if key in ("amplitude_ma", "pulse_width_us", "rate_hz"):
                for value in _edges(spec):
                    yield {**base, f"{spec.wire}_MAX": value}
                    yield {**base, f"{spec.wire}_MIN": value}


def _lines(family: P.Family) -> list[Line]:
    tonic = {"SLOT": 1, **_BASE[P.Mode.TONIC]}
    lines: list[Line] = [("PROG", line) for line in _prog_lines(family)]
    lines += [("PROG", {**tonic, "ELEC": elec}) for elec in (
        "1:-100,CASE:+100", "16:-100,15:+100", "17:-100,1:+100", "1:-100,5:+100", "5:-100,1:+100",
        "1:-50,2:+50,5:-50,6:+50", "1:-100,2:+50,3:+50", "1:-100,2:+50,5:+50", "4:-100,13:+100")]
    # the order of BAD_ARG causes: a missing key, a malformed value, then the mode, unused keys, contacts
    for mode in P.Mode:
        base = {"SLOT": 1, **_BASE[mode]}
        lines += [("PROG", {k: v for k, v in base.items() if k != "AMP"}), ("PROG", {**base, "AMP": "x"}),
                  ("PROG", {**base, "SLOT": 17, "ELEC": "1:-100,CASE:+100"}), ("PROG", {**base, "BURST_N": 3}),
                  ("PROG", {**base, "ELEC": "1:-150,CASE:+100"}), ("TEST", {**_BASE[mode], "RATE": 0})]
    lines += [
        ("PROG", {**tonic, "AMP": 1950, "AMP_MAX": 6000}), ("SELECT", {"SLOT": 1}),
        ("AMP", {"STEP": "+3"}), ("AMP", {"STEP": "-1"}), ("AMP", {"STEP": "-1"}), ("AMP", {"SET": 2010}),
        ("AMP", {"SET": 1990}), ("AMP", {"SET": 6000}), ("AMP", {"SET": 6050}), ("AMP", {"STEP": "+1"}),
        ("AMP", {"SET": 0}), ("AMP", {"STEP": "-1"}), ("READ", {"SLOT": 1}),
        ("TEST", {**_BASE[P.Mode.TONIC], "AMP": 2025}), ("TEST", {**_BASE[P.Mode.HF]}), ("TEST", ["END"]),
        ("IMPEDANCE", []), ("CONFIG", []), ("CONFIG", {"IMPEDANCE_DEFAULT": 1000}), ("IMPEDANCE", []),
        ("SIM", {"FAULT": "OPEN:16"}), ("IMPEDANCE", []), ("SIM", {"FAULT": "NONE"}),
        ("STIM", ["ON"]), ("STATUS", []), ("STIM", ["OFF"]),
        ("BATT", []), ("SIM", {"CHARGE": "1"}), ("SIM", {"CHARGE": "0"}), ("SIM", {"BATT": 150}), ("BATT", []),
        ("SIM", {"BATT": 40}), ("BATT", []), ("STIM", ["ON"]), ("SIM", {"BATT": 1000}), ("STIM", ["ON"]),
        ("STIM", ["OFF"]),
    ]
    return lines


def _comparable(verb: str, reply: Reply) -> tuple[bool, str | None, list[tuple[str | None, str]]]:
    drop = _IDENTITY if verb == "HELLO" else _MOMENT if verb in ("BATT", "STATUS") else set()
    return reply.ok, reply.code, [(k, v) for k, v in reply.args if k not in drop]


def _session(stub_or_virtual: Stub | Virtual, lines: Sequence[Line]) -> list[str]:
    hello = stub_or_virtual.request("HELLO")
    assert stub_or_virtual.login().get("ROLE") == "CLINICIAN"
    out = [str(_comparable("HELLO", hello))]
    for verb, args in lines:
        reply = stub_or_virtual.request(verb, args)
        out.append(f"{verb} {args} -> {_comparable(verb, reply)}")
    return out


@pytest.mark.parametrize("family", list(P.Family), ids=[f.value for f in P.Family])
def test_stub_answers_as_the_python_generator(family: P.Family) -> None:
    lines = _lines(family)
    assert len(lines) > 60
    with running("--pty", "--family", family.value) as stub:
        got = _session(stub, lines)
    want = _session(Virtual(family), lines)
    assert got == want


@pytest.mark.parametrize("family", list(P.Family), ids=[f.value for f in P.Family])
def test_every_range_and_grid_edge_gets_the_contracts_answer(family: P.Family) -> None:
    """Straight from the table: just inside is no range or grid refusal of that key; just
    outside is ``OUT_OF_RANGE KEY= MIN= MAX=``, off the grid the same with ``STEP=``."""
    with running("--pty", "--family", family.value) as stub:
        stub.request("HELLO")
        stub.login()
        for mode in P.family_modes(family):
            base = {"SLOT": 2, **_BASE[mode]}
            for spec in P.family_params(family, mode).values():
                refusal = f"ERR OUT_OF_RANGE KEY={spec.wire} MIN={spec.minimum} MAX={spec.maximum}"
                for value in _edges(spec):
                    reply = str(stub.request("PROG", {**base, spec.wire: value}))
                    where = f"{family.value} {mode.wire} {spec.wire}={value}: {reply}"
                    if not spec.allows(value):
                        assert reply == refusal, where
                    elif not spec.on_grid(value):
                        assert spec.grid is not None
                        assert reply == f"{refusal} STEP={spec.grid.spacing(value)}", where
                    else:
                        assert not reply.startswith(refusal), where


def _prog(stub: Stub, **changes: object) -> Reply:
    return stub.request("PROG", {"SLOT": 1, **_BASE[P.Mode.TONIC], **changes})


def test_drg_ranges_grids_and_bipolar_rule() -> None:
    with running("--pty", "--family", "DRG") as stub:
        assert stub.request("HELLO").get("FAMILY") == "DRG"
        stub.login()
        assert _prog(stub, AMP=6000, PW=720, RATE=100, ELEC="1:-50,2:+50,5:-50,6:+50", ACK="CHARGE").ok
        assert str(_prog(stub, AMP=6050)) == "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=6000"
        assert str(_prog(stub, AMP=2025)) == "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=6000 STEP=50"
        assert str(_prog(stub, AMP=1990)) == "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=6000 STEP=25"
        assert str(_prog(stub, PW=30)) == "ERR OUT_OF_RANGE KEY=PW MIN=40 MAX=720"
        assert str(_prog(stub, PW=725)) == "ERR OUT_OF_RANGE KEY=PW MIN=40 MAX=720"
        assert str(_prog(stub, PW=715)) == "ERR OUT_OF_RANGE KEY=PW MIN=40 MAX=720 STEP=10"
        assert str(_prog(stub, RATE=2)) == "ERR OUT_OF_RANGE KEY=RATE MIN=4 MAX=100"
        assert str(_prog(stub, RATE=41)) == "ERR OUT_OF_RANGE KEY=RATE MIN=4 MAX=100 STEP=2"
        assert str(_prog(stub, AMP_MAX=5990)) == "ERR OUT_OF_RANGE KEY=AMP_MAX MIN=0 MAX=6000 STEP=50"
        assert str(_prog(stub, PW_MIN=45)) == "ERR OUT_OF_RANGE KEY=PW_MIN MIN=40 MAX=720 STEP=10"
        # range before grid, grid before ELECTRODES, ELECTRODES before FIT
        assert str(_prog(stub, AMP=2025, PW=800)) == "ERR OUT_OF_RANGE KEY=PW MIN=40 MAX=720"
        assert str(_prog(stub, PW=715, ELEC="1:-100,5:+100")).endswith("STEP=10")
        assert str(_prog(stub, ELEC="1:-100,5:+100")) == "ERR OUT_OF_RANGE RULE=ELECTRODES KEY=ELEC"
        assert str(_prog(stub, ELEC="1:-50,2:+100,5:-50")) == "ERR OUT_OF_RANGE RULE=ELECTRODES KEY=ELEC"
        assert str(_prog(stub, ELEC="1:-100,CASE:+100")) == "ERR BAD_ARG KEY=ELEC"
        assert str(_prog(stub, MODE="BURST", BURST_N=3, INTRA_HZ=500)) == "ERR BAD_ARG KEY=MODE"
        assert "ZCASE" not in stub.request("IMPEDANCE").as_dict()
        assert stub.request("IMPEDANCE").get("Z16") == "800"
        assert _prog(stub, AMP=2000, AMP_MAX=6000).ok
        assert stub.request("AMP", {"STEP": "-1"}).get("AMP") == "1975"
        assert stub.request("AMP", {"SET": 1950}).ok
        assert stub.request("AMP", {"STEP": "+3"}).get("AMP") == "2050"
        assert str(stub.request("AMP", {"SET": 2060})) == "ERR OUT_OF_RANGE KEY=AMP MIN=0 MAX=6000 STEP=50"


def test_scs_p_refuses_hf_and_ets_the_case() -> None:
    with running("--pty", "--family", "SCS-P") as stub:
        assert stub.request("HELLO").get("FAMILY") == "SCS-P"
        stub.login()
        assert str(stub.request("PROG", {"SLOT": 1, **_BASE[P.Mode.HF]})) == "ERR BAD_ARG KEY=MODE"
        assert _prog(stub, ELEC="1:-100,CASE:+100").ok
        assert stub.request("BATT").get("CHEM") == "PRIMARY"
        assert str(stub.request("SIM", {"CHARGE": 1})) == "ERR STATE REASON=PRIMARY"
    with running("--pty", "--family", "ETS") as stub:
        assert stub.request("HELLO").get("FAMILY") == "ETS"
        stub.login()
        assert str(_prog(stub, ELEC="1:-100,CASE:+100")) == "ERR BAD_ARG KEY=ELEC"
        assert stub.request("PROG", {"SLOT": 2, **_BASE[P.Mode.HF]}).ok
        impedance = stub.request("IMPEDANCE").as_dict()
        assert "ZCASE" not in impedance and impedance["Z1"] == "262"


def test_ets_pack_battery() -> None:
    with running("--pty", "--family", "ETS") as stub:
        stub.request("HELLO")
        stub.login()
        batt = stub.request("BATT").as_dict()
        assert (batt["CHEM"], batt["STATE"], batt["CHG"]) == ("PACK", "OK", "0")
        assert str(stub.request("SIM", {"CHARGE": 1})) == "ERR STATE REASON=PACK"
        assert _prog(stub).ok
        assert stub.request("STIM", ["ON"]).ok
        assert stub.request("SIM", {"BATT": 201}).ok
        stub.request("SIM", {"BATT": 200})
        assert [(e.name, e.get("STATE")) for e in stub.events_for(0.3)] == [("BATT", "LOW")]
        assert stub.request("BATT").get("STATE") == "LOW"
        stub.request("SIM", {"BATT": 50})
        events = [(e.name, e.get("STATE")) for e in stub.events_for(0.3)]
        assert ("BATT", "EMPTY") in events and stub.request("STATUS").get("STIM") == "OFF"
        assert str(stub.request("STIM", ["ON"])) == "ERR STATE REASON=BATTERY"
        assert stub.request("SIM", {"BATT": 1000}).ok  # a fresh pack
        assert stub.request("STIM", ["ON"]).ok


@pytest.mark.parametrize("family", list(P.Family), ids=[f.value for f in P.Family])
def test_each_family_reports_itself_and_its_impedance(family: P.Family) -> None:
    fam = P.FAMILIES[family]
    with running("--pty", "--family", family.value) as stub:
        assert stub.request("HELLO").get("FAMILY") == family.value
        stub.login()
        impedance = stub.request("IMPEDANCE").as_dict()
    assert list(impedance) == [f"Z{c.upper()}" for c in fam.contacts]
    assert impedance["Z1"] == str(int(fam.contact_impedance_ohm))


def test_family_option_refuses_an_unknown_family_and_a_foreign_chemistry() -> None:
    bad = subprocess.run([str(HOST), "--pty", "--family", "SCS-X"], capture_output=True, text=True, timeout=10,
                         check=False)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == f"stimfw-host: --family SCS-X: not a device family ({', '.join(P.Family)})\n"
    chem = subprocess.run([str(HOST), "--pty", "--family", "DRG", "--chem", "liion"], capture_output=True,
                          text=True, timeout=10, check=False)
    assert chem.returncode == 2 and chem.stderr == "stimfw-host: --chem liion: the DRG takes primary\n"
    with running("--pty") as stub:
        assert stub.request("HELLO").get("FAMILY") == P.Family.SCS_R.value  # the default


def test_a_build_picks_its_family_at_compile_time(tmp_path: Path) -> None:
    """A board has no command line: -DSTIMFW_FAMILY makes the family its default."""
    build = subprocess.run(["make", "-C", str(STUB_DIR), f"B={tmp_path}", "CFLAGS=-O1 -DSTIMFW_FAMILY=FW_FAMILY_DRG",
                            f"{tmp_path}/stimfw-host"], capture_output=True, text=True, timeout=240, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    with running("--pty", binary=tmp_path / "stimfw-host") as stub:
        assert stub.request("HELLO").get("FAMILY") == "DRG"
        assert stub.request("BATT").get("CHEM") == "PRIMARY"


def test_a_state_written_under_another_family_starts_from_defaults(tmp_path: Path) -> None:
    with running("--pty", "--state", str(tmp_path)) as stub:
        stub.request("HELLO")
        stub.login()
        assert _prog(stub, ELEC="1:-100,CASE:+100").ok
    with running("--pty", "--state", str(tmp_path), "--family", "DRG") as stub:
        assert stub.request("HELLO").get("STATE") == "DEFAULTS"
        stub.login()
        assert stub.request("READ", {"SLOT": 1}).get("REASON") == "EMPTY"
        assert stub.request("CONFIG").get("IMPEDANCE_DEFAULT") == "800"
        assert _prog(stub).ok
    with running("--pty", "--state", str(tmp_path), "--family", "DRG") as stub:
        assert "STATE" not in stub.request("HELLO").as_dict()
        stub.login()
        assert stub.request("READ", {"SLOT": 1}).get("ELEC") == _ELEC
