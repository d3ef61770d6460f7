"""The `tfdqn` command: one subcommand per module of this package.

A subcommand is a module here named after it (`train.py` is `tfdqn train`) that defines
    HELP: str                                   one line for `tfdqn --help`
    DESCRIPTION: str                            optional, the subcommand's own --help text (default HELP)
    add_arguments(parser) -> None               its flags, each help saying its default
    run(args) -> int | None                     the work; heavy imports (TensorFlow) happen in here
so adding a subcommand is adding one file. Modules import nothing heavy at top level, so `--help` is instant.
Bad input raises a `TfdqnError`, printed as one line on stderr with exit status 2 (`tfdqn.cli.run_main`).
The scripts in scripts/ are front ends: `run_command("train", prog="train_cartpole.py")`.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from tfdqn.cli import ArgumentParser, run_main

DESCRIPTION = (
    "tfdqn: Deep Q-Networks on Keras 3 and Gymnasium. Train any Gymnasium environment with a "
    "discrete action space, evaluate saved models, and run sweeps and searches on Ray."
)


def command_names() -> list[str]:
    """The subcommands: every public module of this package, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def command_module(name: str) -> ModuleType:
    """The module implementing subcommand `name`."""
    return importlib.import_module(f"{__name__}.{name}")


def _configure(parser: argparse.ArgumentParser, module: ModuleType) -> None:
    module.add_arguments(parser)
    parser.set_defaults(_run=module.run)


def build_parser() -> ArgumentParser:
    """`tfdqn`'s parser, with one subparser per module."""
    parser = ArgumentParser(prog="tfdqn", description=DESCRIPTION)
    from tfdqn import __version__

    parser.add_argument("--version", action="version", version=f"tfdqn {__version__}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, title="commands (tfdqn COMMAND --help for each one's flags)"
    )
    for name in command_names():
        module = command_module(name)
        _configure(
            sub.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP)), module
        )
    return parser


def command_parser(name: str, prog: str | None = None) -> ArgumentParser:
    """A stand-alone parser for subcommand `name` (what a script in scripts/ parses)."""
    module = command_module(name)
    parser = ArgumentParser(prog=prog, description=getattr(module, "DESCRIPTION", module.HELP))
    _configure(parser, module)
    return parser


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the `tfdqn` console command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    run_main(lambda: args._run(args))


def run_command(name: str, argv: Sequence[str] | None = None, prog: str | None = None) -> NoReturn:
    """Run subcommand `name` on `argv` (default: the command line) as a script of its own."""
    parser = command_parser(name, prog)
    parser.set_defaults(_prog=prog)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    run_main(lambda: args._run(args))
