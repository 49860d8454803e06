"""Random and mutated lines through the sanitizer build: no crash, no sanitizer report,
and every byte the device sends is a well-formed line with a valid CRC.

The corpus is generated here from a fixed seed (valid requests of every verb, then byte
flips, cuts, splices, overlong lines, control bytes, wrong CRCs and stale SEQs) and fed to
build/asan/stimfw-soak, which runs the core with -fsanitize=address,undefined. When clang's
libFuzzer runtime is available, build/fuzz/fuzz_line also runs for five seconds.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stimsim.engine import params as P
from stimsim.protocol import codec

from .stub_support import BUILD, SOAK, make

pytestmark = pytest.mark.usefixtures("asan_build")

LINES = 100_000
SEED = 20_240_601

_TEMPLATES = [
    "HELLO", "HELLO STRICT=1", "HELLO STRICT=0", "STATUS", "BATT", "IMPEDANCE", "LOG", "LOG FROM=3", "LOGIN",
    "LOGIN PROOF=" + "ab" * 32, "LOGOUT", "STIM ON", "STIM OFF", "STOP", "MRI ON", "MRI OFF",
    "SELECT SLOT={slot}", "READ SLOT={slot}", "ERASE SLOT={slot}", "AMP SET={amp}", "AMP STEP=+{step}",
    "AMP STEP=-{step}", "CONFIG IMPEDANCE_DEFAULT={z}", "CONFIG PIN=0000",
    "PROG SLOT={slot} MODE=TONIC AMP={amp} PW={pw} RATE={rate} IPG={ipg} ELEC={elec}",
    "PROG SLOT={slot} MODE=TONIC AMP={amp} PW={pw} RATE={rate} ELEC={elec} CYCLE_ON_MS=1000 CYCLE_OFF_MS=2000 "
    "RAMP_MS=500 ACK=CHARGE",
    "PROG SLOT={slot} MODE=BURST AMP={amp} PW=500 RATE=40 BURST_N=5 INTRA_HZ=500 ELEC={elec} RECHARGE=PASSIVE",
    "PROG SLOT={slot} MODE=HF AMP={amp} PW=30 RATE=10000 ELEC={elec} AMP_MIN=0 AMP_MAX=9000 NAME=Night_1",
    "TEST MODE=TONIC AMP={amp} PW={pw} RATE={rate} ELEC={elec}", "TEST END",
    "SIM SPEED={speed}", "SIM BATT={batt}", "SIM CHARGE=1", "SIM CHARGE=0", "SIM FAULT=OPEN:{contact}",
    "SIM FAULT=SHORT:{contact}", "SIM FAULT=HOT", "SIM FAULT=NONE", "SIM RESET",
]
_ELECS = ["4:-100,5:+100", "1:-50,2:-50,CASE:+100", "16:-100,9:+40,10:+60", "4:-100,4:+100", "17:-100,CASE:+100",
          "case:+100,3:-100", "1:-100,2:+100", "1:-50,2:+50,13:-50,14:+50"]  # the last two: DRG bipoles


def _valid(rng: random.Random) -> str:
    return rng.choice(_TEMPLATES).format(
        slot=rng.choice([1, 2, 3, 16, 0, 17]), amp=rng.choice([0, 500, 3000, 12000, 20000, 25000, -1, 1975, 2025, 6000]),
        step=rng.randint(0, 250), z=rng.choice([50, 262, 4000, 10]), pw=rng.choice([20, 200, 1000, 1500]),
        rate=rng.choice([2, 50, 1200, 5000]), ipg=rng.choice([0, 50, 2000]), elec=rng.choice(_ELECS),
        speed=rng.choice(["1", "0.1", "100000", "2.5", "0.05", "1e3"]), batt=rng.randint(-5, 1005),
        contact=rng.randint(0, 18),
    )


def _mutate(rng: random.Random, line: bytes) -> bytes:
    data = bytearray(line)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2:
            del data[pos:pos + rng.randint(1, 10)]
        elif op == 3:
            data[pos:pos] = rng.choice([b" ", b"=", b"*", b"#", b",", b":", b"\r", b"_", b"  *FFFF"])
        elif op == 4:
            data += data[: rng.randint(0, len(data))]
        elif op == 5:
            data = data[: rng.randint(0, len(data))]
        else:
            data[pos:pos] = b"A" * rng.choice([64, 65, 300, 330, 1000])
    return bytes(data).replace(b"\n", b" ")


def corpus(n: int, seed: int) -> bytes:
    """``n`` lines: sealed requests (with SEQ), plain ones, and mutants of both."""
    rng = random.Random(seed)
    out: list[bytes] = []
    seq = 0
    for i in range(n):
        if i % 5000 == 2500:
            out.append(b"@FAMILY %d" % (i // 5000 % len(P.FAMILIES)))  # the soak powers up as that family
        if i % 40 == 0:
            out.append(b"@CLINICIAN")
        text = _valid(rng)
        kind = rng.random()
        if kind < 0.35:
            seq = (seq + rng.choice([1, 1, 1, 2, 0, 1025, 60000])) % 65536
            line = codec.encode_request(text.split()[0], text.split()[1:], seq=seq or None).rstrip(b"\r\n")
        elif kind < 0.55:
            line = text.encode()
        else:
            line = _mutate(rng, text.encode())
        out.append(line)
    return b"\n".join(out) + b"\n"


def test_soak_100k_lines_under_asan_and_ubsan(tmp_path: Path) -> None:
    data = corpus(LINES, SEED)
    assert data.count(b"\n") >= LINES
    result = subprocess.run([str(SOAK)], input=data, capture_output=True, timeout=120, check=False)
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 0, stderr[-3000:]
    assert "runtime error" not in stderr and "AddressSanitizer" not in stderr, stderr[-3000:]
    found = re.search(rb"soak: (\d+) lines, (\d+) output lines checked", result.stdout)
    assert found, result.stdout
    assert int(found.group(1)) >= LINES and int(found.group(2)) >= LINES // 2


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed: libFuzzer run skipped")
def test_libfuzzer_finds_nothing(tmp_path: Path) -> None:
    built = make("fuzz")
    if built.returncode != 0:
        pytest.skip(f"clang cannot build a libFuzzer target here (libclang-rt missing?): {built.stderr[-300:]}")
    seeds = tmp_path / "corpus"
    seeds.mkdir()
    for i, chunk in enumerate(corpus(200, SEED + 1).split(b"@CLINICIAN\n")):
        (seeds / f"seed{i}").write_bytes(b"\x01" + chunk)
    result = subprocess.run([str(BUILD / "fuzz" / "fuzz_line"), "-seed=1", "-runs=100000", "-max_total_time=5",
                             "-max_len=2048",
                             # The stub allocates nothing: any one malloc over 64 MB is a finding. The
                             # process's RSS (sanitizer shadow and quarantine, libFuzzer's own corpus)
                             # once passed the 2 GB default on a loaded machine with a live heap of
                             # ~130 KB; the limit is for the stub's memory, not the machine's load.
                             "-malloc_limit_mb=64", "-rss_limit_mb=4096", str(seeds)],
                            capture_output=True, timeout=120, check=False, cwd=tmp_path)
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 0, stderr[-3000:]
    assert re.search(r"Done \d+ runs", stderr), stderr[-1000:]
