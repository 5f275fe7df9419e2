"""The `chromatize` command: thin argument handling over the package's modules, one file per
family of subcommands:

    train.py      train, alpha, export, models (train's flags made from TrainConfig's fields)
    colorize.py   colorize (media/batch.py does the work), shots (media/shot_list.py)
    evaluate.py   evaluate, evaluate-video (evaluation/)
    serve.py      serve (app/)
    _args.py      argument types shared by them

This file: the parser, and main(), which turns every error into one line and an exit code.
"""
from __future__ import annotations

import argparse
import functools
import logging
import signal
import sys

from ..fileio import ESCAPE, printable
from ..images import ImageError
from ..version import __version__
from . import colorize, evaluate, serve, train

log = logging.getLogger("chromatize")


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that temporary files are removed on the way out."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):          # file names that are not UTF-8 print as \xNN
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=ESCAPE)
    logging.basicConfig(level=logging.INFO if not args.quiet else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    previous = signal.signal(signal.SIGTERM, _terminate)
    code = 1
    try:
        code = args.run(args)
        return code
    except (ValueError, FileNotFoundError, FileExistsError, FloatingPointError, ImageError, ImportError) as err:
        if args.debug:
            raise
        print(f"chromatize: error: {printable(err)}", file=sys.stderr)
        return 2
    except Terminated:
        print("chromatize: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt as err:
        print(f"chromatize: {err or 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as err:                            # a bug or a case we did not foresee: one line
        if args.debug:
            raise
        print(f"chromatize: error: {type(err).__name__}: {printable(err)} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
        from ..runtime import teardown

        teardown(together=code == 0)

def _terminate(signum, frame) -> None:
    raise Terminated()

class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (the usage block would bury it); --help still shows it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chromatize", description="Colorize black-and-white photos with CNNs.")
    parser.add_argument("--version", action="version", version=f"chromatize {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    common = _Parser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars, only warnings and errors")
    common.add_argument("--debug", action="store_true", help="show Python tracebacks instead of one-line errors")
    sub.add_parser = functools.partial(sub.add_parser, parents=[common])
    for family in (train, colorize, evaluate, serve):
        family.add(sub)
    return parser


if __name__ == "__main__":
    sys.exit(main())
