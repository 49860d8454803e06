"""The ``stimsim`` command line: argument parsing and dispatch, nothing more.

Each area registers its own subcommands (``commands/*.py``); they call the layers below.
Exit status: 0 done, 1 the work failed, 2 bad usage or bad input (one clear line on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import cast

from . import __version__
from .commands import REGISTRARS, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and one line naming the problem."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stimsim",
        description="Simulator of a spinal cord stimulation programming system. "
        "With no command, opens the desktop app on the built-in virtual generator.",
    )
    parser.add_argument("--version", action="version", version=f"stimsim {__version__}")
    # every subparser is a _Parser (exit 2, one line); the registrars need only ArgumentParser's API
    sub = cast("argparse._SubParsersAction[argparse.ArgumentParser]",
               parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser))
    for register in REGISTRARS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list:
        args_list = ["gui"]
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        result: int = args.run(args)
    except UsageError as exc:
        for line in str(exc).splitlines():
            print(f"stimsim {args.command}: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader left (``| head``): stop quietly, as a shell tool does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return result


if __name__ == "__main__":
    raise SystemExit(main())
