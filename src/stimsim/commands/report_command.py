"""``stimsim report RECORD --out REPORT.pdf``: a session record as a PDF report.

Exit 0: written. 1: the record's hash chain is broken (the line is named; ``--force``
writes the report anyway and says so on its first page). 2: bad usage or a file that is
not a session record, or the PDF cannot be written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="write a session record (*.jsonl) as a PDF report")
    p.add_argument("record", metavar="RECORD", help="a session record (*.jsonl)")
    p.add_argument("--out", metavar="REPORT.pdf", required=True, help="the PDF to write (whole or not at all)")
    p.add_argument("--force", action="store_true",
                   help="write the report even if the record's chain is broken (its first page says so)")
    p.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".pdf":
        raise UsageError(f"--out {args.out}: the file name must end in .pdf")
    if not out.parent.is_dir():
        raise UsageError(f"--out {args.out}: folder {out.parent} does not exist")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a report needs no display
    from ..app.records.report import ReportError, gui_app, load_record, write_report

    app = gui_app()
    try:
        record = load_record(args.record, force=args.force)
        write_report(record, out)
    except ReportError as exc:
        if exc.code == 2:
            raise UsageError(str(exc)) from None
        print(f"stimsim report: {exc}", file=sys.stderr)
        return exc.code
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from None
    finally:
        del app
    forced = f" (FORCED: the chain is broken at {record.broken})" if record.broken else ""
    print(f"wrote {out}: {len(record.entries)} entries of {Path(args.record).name}{forced}", file=sys.stderr)
    return 0
