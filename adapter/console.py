"""What the ``adapter`` command shares between its subcommands: one-line errors, the files a
list of paths and directories stands for, and the progress bar and summary of a long run.

A person reads the command's errors, so none of them is a traceback: a usage error, a path
that cannot be read or written, or a failure nobody foresaw is one line on stderr,
``adapter <command>: error: …``, and the documented exit code (2 usage or unreadable input,
1 anything else that failed).
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO, Any, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

__all__ = [
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "SIDECAR_SUFFIXES",
    "Expanded",
    "OneLineErrors",
    "Tally",
    "ToolCommand",
    "choice",
    "expand",
    "fail",
]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

SIDECAR_SUFFIXES = (".meta.json", ".expected.json")
"""Files of the fixture layout (fixtures/README.md) that describe a Bundle and are not one:
``NN-name.meta.json``, ``NN-name.expected.meta.json`` and ``NN-name.expected.json``."""

BUNDLE_SUFFIXES = (".json", ".xml")

E = TypeVar("E", bound=Enum)


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``adapter <command>: error: message`` on stderr; the caller raises the returned
    ``Exit``."""
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    where = ctx.command_path if ctx is not None else "adapter"
    typer.echo(f"{where}: error: {message}", err=True)
    return typer.Exit(code)


def _one_line(text: str) -> str:
    return " ".join(text.replace("Value error, ", "").split())


class OneLineErrors(TyperGroup):
    """The command group, with every error on one line and never a traceback."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        from adapter.errors import AdapterError

        given = list(sys.argv[1:] if args is None else args)
        name = prog_name or "adapter"
        command = next((f"{name} {word}" for word in given[:1] if word in self.commands), name)
        code: int
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else EXIT_OK
        except NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help(), err=True)
            code = EXIT_USAGE
        except ClickException as exc:
            where = exc.ctx.command_path if getattr(exc, "ctx", None) else name  # type: ignore[attr-defined]
            hint = f" (see '{where} --help')" if getattr(exc, "ctx", None) else ""
            typer.echo(f"{where}: error: {_one_line(exc.format_message())}{hint}", err=True)
            code = exc.exit_code
        except typer.Abort:
            typer.echo(f"{command}: aborted", err=True)
            code = EXIT_REFUSED
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the reader went away (``| head``): nothing to say
                _silence_broken_pipe()
                code = EXIT_REFUSED
            else:
                typer.echo(f"{command}: error: {_describe_os_error(exc)}", err=True)
                code = EXIT_USAGE
        except AdapterError as exc:  # a failure the adapter foresaw and worded
            typer.echo(f"{command}: error: {_one_line(str(exc))}", err=True)
            code = EXIT_REFUSED
        except Exception as exc:
            typer.echo(f"{command}: error: {type(exc).__name__}: {_one_line(str(exc))}", err=True)
            code = EXIT_REFUSED
        if not standalone_mode:
            return code
        sys.exit(code)


class _PlainArgument(TyperArgument):
    """An argument shown by its metavar alone (``PATH…``), not ``{PATH…}...`` and its Python type."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class ToolCommand(TyperCommand):
    """A subcommand whose help reads like a tool's: arguments by their metavar only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _PlainArgument


def _describe_os_error(exc: OSError) -> str:
    target = f"{exc.filename}: " if exc.filename else ""
    return f"{target}{exc.strerror or exc}"


def _silence_broken_pipe() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def choice(kind: type[E]) -> Any:
    """A ``parser=`` for an enum option whose error lists the values plainly:
    ``'yaml' is not one of json, xml``."""
    values = ", ".join(str(member.value) for member in kind)

    def parse(value: object) -> E:
        if isinstance(value, kind):
            return value
        try:
            return kind(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not one of {values}") from None

    return parse


@dataclass(frozen=True, slots=True)
class Expanded:
    """The files a list of paths stands for, and the fixture sidecars left out."""

    files: list[Path]
    skipped: list[Path]
    several: bool
    """More than one file given, or a directory: results then name their file."""


def _is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIXES)


def expand(paths: Iterable[Path], *, twins: bool = True) -> Expanded:
    """Files as given, in order; a directory gives its ``*.json`` and ``*.xml`` files, its
    subdirectories included, in the order of their paths (``sorted``). Fixture sidecars
    (``*.meta.json``, ``*.expected.json``, ``*.expected.meta.json``) are left out, named or
    found. Without ``twins``, a directory's ``NN.xml`` is left out when ``NN.json`` sits beside
    it (fixtures/README.md: the same submission in the other format).

    A path that does not exist or cannot be read is left for the reader to report.
    """
    files: list[Path] = []
    skipped: list[Path] = []
    given = list(paths)
    several = len(given) > 1
    for path in given:
        if path.is_dir():
            several = True
            found = sorted(p for p in path.rglob("*") if p.suffix in BUNDLE_SUFFIXES and p.is_file())
            for candidate in found:
                twin = candidate.with_suffix(".json")
                if _is_sidecar(candidate) or (not twins and candidate.suffix == ".xml" and twin.exists()):
                    skipped.append(candidate)
                else:
                    files.append(candidate)
        elif _is_sidecar(path):
            skipped.append(path)
        else:
            files.append(path)
    return Expanded(files, skipped, several)


def read_all(paths: Sequence[Path]) -> list[tuple[Path, bytes]]:
    """Every file's bytes, or exit 2 on the first that cannot be read (before any work)."""
    inputs = []
    for path in paths:
        try:
            inputs.append((path, path.read_bytes()))
        except OSError as exc:
            raise fail(f"cannot read {path}: {exc.strerror}") from None
    return inputs


@dataclass
class Tally:
    """A long run's progress bar (on a terminal only) and its summary table."""

    label: str
    total: int
    stream: IO[str] = field(default_factory=lambda: sys.stderr)
    passed: int = 0
    failed: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def interactive(self) -> bool:
        return self.stream.isatty()

    def record(self, passed: bool) -> None:
        if passed:
            self.passed += 1
        else:
            self.failed += 1

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    @contextmanager
    def bar(self) -> Iterator[Any]:
        """A progress bar on the stream when it is a terminal; ``advance()`` on what it yields."""
        if not self.interactive or self.total < 2:
            yield _NoBar()
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(file=self.stream)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(self.label, total=self.total)
            yield _Bar(progress, task)

    def summary(self, *, passed: str = "passed", failed: str = "failed", force: bool = False) -> None:
        """The run's summary table: on a terminal, or always with ``force``."""
        if not (force or self.interactive):
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=None, show_edge=True)
        for column in (passed, failed, "time"):
            table.add_column(column, justify="right")
        table.add_row(str(self.passed), str(self.failed), f"{self.seconds:.1f} s")
        Console(file=self.stream).print(table)


class _NoBar:
    def advance(self) -> None:
        """Nothing to draw."""


@dataclass
class _Bar:
    progress: Any
    task: Any

    def advance(self) -> None:
        self.progress.advance(self.task)
