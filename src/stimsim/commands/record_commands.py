"""``stimsim record verify``: is a session record's hash chain intact?"""

from __future__ import annotations

import argparse
import sys

from . import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = sub.add_parser("record", help="check a session record (*.jsonl)")
    verbs = record.add_subparsers(dest="record_command", metavar="VERB", required=True)
    check = verbs.add_parser("verify", help="exit 0 when the hash chain is intact, 1 naming the first bad entry")
    check.add_argument("file", help="a session record (*.jsonl)")
    check.set_defaults(run=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    from ..record.chain import verify

    problems = verify(args.file)
    if problems and problems[0].line == 0:
        raise UsageError(f"{args.file}: {problems[0].text}")
    if problems:
        print(f"{args.file}: {problems[0]}", file=sys.stderr)
        return 1
    print(f"{args.file}: intact", file=sys.stderr)
    return 0
