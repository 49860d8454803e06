"""The protocol's verbs as a person types them, each with one line saying what it does.

Shown by the ``stimsim device`` console's ``:help``; the generator's own dispatch table
(``stimsim.generator.verbs``) must name the same verbs, which a test holds.
"""

from __future__ import annotations

#: (how it is typed, what it does), in the order docs/protocol.md section 6 lists them.
VERB_HELP: tuple[tuple[str, str], ...] = (
    ("HELLO [STRICT=0/1]", "start a session as patient; names the device and the next SEQ"),
    ("STATUS", "stimulation, active slot, amplitude, battery, role, MRI, TEST"),
    ("PROG SLOT=n MODE= AMP= ...", "write a program to a slot, whole or not at all (clinician)"),
    ("READ SLOT=n", "the program stored in a slot"),
    ("ERASE SLOT=n", "empty a slot (clinician)"),
    ("SELECT SLOT=n", "make a slot the active one"),
    ("STIM ON / STIM OFF", "start or stop stimulation on the active slot"),
    ("AMP SET=uA / STEP=+n / STEP=-n", "set or step the active slot's amplitude (a step is 100 uA)"),
    ("IMPEDANCE", "every contact's impedance in ohms, or OPEN/SHORT (clinician)"),
    ("BATT", "battery level, voltage, chemistry, charger and hours left"),
    ("CONFIG [PIN=] [IMPEDANCE_DEFAULT=]", "read or change the configuration (clinician)"),
    ("STOP", "stop stimulation at once: any role, any mode, always executed"),
    ("LOGIN / LOGOUT", "clinician login (type :login PIN), back to patient"),
    ("MRI ON / MRI OFF", "MRI mode: stimulation stops and stays off until MRI OFF"),
    ("LOG [FROM=n]", "the audit log, as !LOG events"),
    ("TEST MODE= AMP= ... / TEST END", "try a program live on the active slot, unsaved (clinician)"),
    ("ECAP / ECAP SWEEP FROM= TO= STEP=", "closed loop (SCS-CL): the ECAP now; its growth curve (clinician)"),
    ("ECAP STREAM=1/0", "closed loop (SCS-CL): !ECAP ten times a second while stimulating"),
    ("SIM ...", "emulator controls: SPEED=x, BATT=n, CHARGE=0/1, FAULT=..., RESET"),
    ("SIM POSTURE=, COUGH, ECAP_NOISE=, EPS=", "closed loop (SCS-CL): the emulator's virtual nerve"),
)


def verb_names() -> list[str]:
    """Every verb the table names (``LOGIN / LOGOUT`` gives both)."""
    names: list[str] = []
    for usage, _ in VERB_HELP:
        for part in usage.split(" / "):
            word = part.split()[0]
            if word.isalpha() and word.isupper() and word not in names:
                names.append(word)
    return names
