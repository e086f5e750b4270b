"""The ``adapter`` command: validate, convert and map Bundles, submit them, serve the API, run
the conformance kit against a service.

Exit codes: 0 success (valid, adjudicated), 1 the input was refused (an OperationOutcome
says why) or a check failed, 2 usage errors or an unreadable file, 3 the database cannot be
reached (``serve`` at start, ``purge``). Every error is one line on stderr (adapter/console.py),
never a traceback.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapter.console import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    Expanded,
    OneLineErrors,
    Tally,
    ToolCommand,
    choice,
    expand,
    fail,
    read_all,
)
from adapter.errors import InputError, Issue, UsageError
from adapter.intake import Format, Limits, parse_payload, read_submission
from adapter.intake.eligibility import read_eligibility

if TYPE_CHECKING:
    import httpx

    from adapter.bootstrap import Composition
    from adapter.domain.device import DeviceStatus
    from adapter.domain.values import Money
    from adapter.service.claims import StoreService
    from adapter.settings import Settings

__all__ = ["EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "app", "main", "next_steps"]

app = typer.Typer(
    name="adapter",
    cls=OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="FHIR R4 reimbursement adapter for French medical devices (LPP).",
    epilog="Exit codes: 0 success, 1 refused or failed, 2 usage error or unreadable file.",
)

EXIT_UNAVAILABLE = 3


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class WireFormat(StrEnum):
    JSON = "json"
    XML = "xml"


FILES_HELP = (
    "JSON or XML files, or directories (their *.json and *.xml files, in path order; "
    "fixture sidecars *.meta.json and *.expected.json are skipped)"
)


def _format(path: Path, data: bytes, given: WireFormat | None = None) -> Format:
    if given is not None:
        return Format(given.value)
    return Format.from_path(path) or Format.sniff(data)


def _write(data: bytes) -> None:
    """Bytes to stdout as they are (through a progress bar's redirection when one is drawn)."""
    if not data.endswith(b"\n"):
        data += b"\n"
    stream = sys.stdout
    if isinstance(stream, io.TextIOWrapper):
        stream.flush()
        stream.buffer.write(data)
    else:
        stream.write(data.decode("utf-8"))
    stream.flush()


def _describe(issue: Issue) -> str:
    where = f" at {issue.expression}" if issue.expression else ""
    return f"  {issue.severity.value}: [{issue.code}]{where}: {issue.message}"


def _report_refusal(path: Path, status: int, issues: list[Issue] | tuple[Issue, ...]) -> None:
    """A refused file on stderr, as ``validate`` prints it: its verdict, then its issues."""
    typer.echo(f"{path}: invalid ({status})", err=True)
    for issue in issues:
        typer.echo(_describe(issue), err=True)


def _files(paths: list[Path], *, twins: bool = True) -> Expanded:
    expanded = expand(paths, twins=twins)
    if not expanded.files:
        raise fail("no JSON or XML file among the paths given")
    return expanded


def _tagged(path: Path, status: int, key: str, value: object) -> dict[str, object]:
    """One JSON line of a run over several files: the file, its HTTP-like status, the result."""
    return {"file": str(path), "status": status, key: value}


def _xml_tagged(document: bytes, path: Path) -> bytes:
    """An XML document that names its file in a comment after the declaration (still one document)."""
    comment = f"<!-- file: {str(path).replace('--', '- -')} -->".encode()
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>'
    if document.startswith(declaration):
        return declaration + comment + document[len(declaration) :]
    return comment + document


@app.command(
    cls=ToolCommand,
    short_help="Check Bundles or lone prescriptions against the rules.",
    epilog="Exit 0 all valid, 1 any invalid, 2 usage error or unreadable file.",
)
def validate(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar="PATH…", help=FILES_HELP, show_default=False)],
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            metavar="text|json",
            parser=choice(OutputFormat),
            help="text, or json: an OperationOutcome (several files: one JSON line each, "
            '{"file", "status", "resource"})',
        ),
    ] = OutputFormat.TEXT,
) -> None:
    """Check submission Bundles against FHIR R4 and the adapter's conventions, eligibility
    Bundles (a CoverageEligibilityRequest first) as CoverageEligibilityRequest/$submit reads
    them, and lone prescriptions (a DeviceRequest file) as DeviceRequest/$validate does: valid
    when no finding is an error."""
    from mappings.fhir import jsonio
    from mappings.outbound import all_ok, to_operation_outcome

    expanded = _files(files)
    inputs = read_all(expanded.files)
    tally = Tally("validating", len(inputs))
    with tally.bar() as bar:
        for path, data in inputs:
            fmt = _format(path, data)
            try:
                lead = _lead_type(data, fmt)
                if lead == "DeviceRequest":
                    status, issues = 200, _prescription_issues(ctx, data, fmt)
                elif lead == "CoverageEligibilityRequest":
                    status, issues = 200, read_eligibility(data, fmt).warnings
                else:
                    submission = read_submission(data, fmt)
                    status, issues = 200, submission.warnings
            except InputError as exc:
                status, issues = exc.http_status, exc.issues
            if status == 200 and any(issue.is_error for issue in issues):
                status = 422
            tally.record(status == 200)
            if output is OutputFormat.JSON:
                outcome = (
                    to_operation_outcome(issues) if issues else all_ok(f"{path.name} is a valid submission")
                )
                _write(
                    jsonio.dumps(_tagged(path, status, "resource", outcome) if expanded.several else outcome)
                )
            else:
                typer.echo(f"{path}: {'valid' if status == 200 else f'invalid ({status})'}")
                for issue in issues:
                    typer.echo(_describe(issue))
            bar.advance()
    tally.summary(passed="valid", failed="invalid")
    raise typer.Exit(EXIT_REFUSED if tally.failed else EXIT_OK)


def _lead_type(data: bytes, fmt: Format) -> str | None:
    """What the input is about: ``DeviceRequest`` for a lone prescription, the type of a Bundle's
    first entry (``CoverageEligibilityRequest`` for an eligibility question), else None."""
    try:
        resource = parse_payload(data, fmt)
    except InputError:
        return None
    if resource.get("resourceType") == "DeviceRequest":
        return "DeviceRequest"
    entries = resource.get("entry")
    first = entries[0] if isinstance(entries, list) and entries else None
    lead = first.get("resource") if isinstance(first, dict) else None
    kind = lead.get("resourceType") if isinstance(lead, dict) else None
    return kind if isinstance(kind, str) else None


def _prescription_issues(ctx: typer.Context, data: bytes, fmt: Format) -> tuple[Issue, ...]:
    """A lone prescription's findings against the configured LPP table, dated today in Paris."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from adapter.errors import ReferenceDataError
    from adapter.prescription_flow import validate_prescription
    from adapter.settings import Settings

    settings = Settings()
    try:
        table = _composition(ctx).lpp_table(settings)
    except ReferenceDataError as exc:
        raise fail(exc.message) from None
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    return validate_prescription(data, fmt, table=table, today=today, canon=settings.canon)


def _target(source: Path, out: Path | None, to: WireFormat, *, several: bool) -> Path | None:
    """Where one converted file goes: stdout (None), the file ``out``, or ``out/<stem>.<to>``
    when ``out`` is a directory (an existing one, one written with a trailing slash, or any
    ``out`` for several files)."""
    if out is None:
        return None
    if several or out.is_dir() or str(out).endswith(("/", "\\")):
        if not out.is_dir():
            raise fail(f"-o {out}: no such directory")
        return out / f"{source.stem}.{to.value}"
    if not out.parent.is_dir():
        raise fail(f"-o {out}: no such directory {out.parent}")
    return out


@app.command(
    cls=ToolCommand,
    short_help="Convert FHIR R4 resources between JSON and XML.",
    epilog="Exit 0 all converted, 1 any not valid R4, 2 usage error or unreadable file.",
)
def convert(
    files: Annotated[list[Path], typer.Argument(metavar="PATH…", help=FILES_HELP, show_default=False)],
    to: Annotated[
        WireFormat, typer.Option("--to", metavar="json|xml", parser=choice(WireFormat), help="target format")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="PATH",
            help="write to this file, or into this directory as <name>.json or <name>.xml "
            "(needed for several files); default: stdout",
        ),
    ] = None,
) -> None:
    """Convert FHIR R4 resources between JSON and XML (checked against the R4 model)."""
    from mappings.fhir import jsonio, structure_issues, walk
    from mappings.fhir.xml import dump_xml

    expanded = _files(files)
    if expanded.several and out is None:
        raise fail("several files: give -o DIR, the directory to write them into")
    targets = [(path, _target(path, out, to, several=expanded.several)) for path in expanded.files]
    for path, target in targets:
        if target is not None and target.resolve() == path.resolve():
            raise fail(f"{path}: converting it to {target} would overwrite it")
    inputs = read_all(expanded.files)
    worst = EXIT_OK
    for (path, data), (_, target) in zip(inputs, targets, strict=True):
        try:
            resource = parse_payload(data, _format(path, data), Limits())
            issues = walk(resource).parse or structure_issues(resource)
        except InputError as exc:
            issues = list(exc.issues)
        if issues:
            _report_refusal(path, 400, issues)
            worst = EXIT_REFUSED
            continue
        result = dump_xml(resource, pretty=True) if to is WireFormat.XML else jsonio.dumps(resource, indent=2)
        if target is None:
            _write(result)
            continue
        try:
            target.write_bytes(result)
        except OSError as exc:
            raise fail(f"cannot write {target}: {exc.strerror}") from None
    raise typer.Exit(worst)


@app.command(
    "map",
    cls=ToolCommand,
    short_help="Print the internal reimbursement request of Bundles.",
    epilog="Exit 0 all mapped, 1 any refused, 2 usage error or unreadable file.",
)
def map_(
    files: Annotated[list[Path], typer.Argument(metavar="PATH…", help=FILES_HELP, show_default=False)],
) -> None:
    """Print the internal reimbursement request each Bundle maps to, as JSON.

    One file prints an indented document; several print one JSON line each,
    {"file", "status", "request"}. A refused file's issues go to stderr.
    """
    import json

    from adapter.domain.jsonable import to_jsonable

    expanded = _files(files)
    worst = EXIT_OK
    for path, data in read_all(expanded.files):
        try:
            submission = read_submission(data, _format(path, data))
        except InputError as exc:
            _report_refusal(path, exc.http_status, exc.issues)
            worst = EXIT_REFUSED
            continue
        request = to_jsonable(submission.request)
        if expanded.several:
            typer.echo(json.dumps(_tagged(path, 200, "request", request), ensure_ascii=False))
        else:
            typer.echo(json.dumps(request, indent=2, ensure_ascii=False))
    raise typer.Exit(worst)


def _card(status: DeviceStatus, conditions: list[str]) -> list[str]:
    """An LPP row as lines for the terminal."""

    def euros(amount: Money | None) -> str:
        return "none" if amount is None else f"{amount.amount} €"

    def count(value: int | None, unit: str = "") -> str:
        return "no limit" if value is None else f"at most {value}{unit}"

    until = status.valid_to.isoformat() if status.valid_to else "(open)"
    verdict = "billable" if status.in_force else "not billable (deactivated generic line)"
    ages = [
        f">= {status.age_min}" if status.age_min is not None else "",
        f"<= {status.age_max}" if status.age_max is not None else "",
    ]
    renewal = (
        f"{status.renewal_quantity} every {status.renewal_months} months"
        if status.renewal_months is not None
        else "no interval"
    )
    rows = [
        ("tarif (BR)", f"{euros(status.tarif)} per unit"),
        ("PLV (price cap)", euros(status.plv)),
        ("valid", f"{status.valid_from.isoformat()} to {until}"),
        ("titre", status.titre or "none (telemonitoring forfait)"),
        ("category", status.category),
        (
            "kind",
            status.kind
            + (f", deactivated from {status.deactivated_on.isoformat()}" if status.deactivated_on else ""),
        ),
        ("entente préalable", "required" if status.entente_prealable else "no"),
        ("per delivery", count(status.max_per_delivery)),
        ("per year", count(status.max_per_year)),
        ("renewal", renewal),
        ("age", " and ".join(age for age in ages if age) or "any"),
        ("100 % Santé", f"class {status.sante100}" if status.sante100 else "no"),
        ("telemonitoring", status.telemonitoring or "no"),
    ]
    extra = (
        ("per ear", f"{status.renewal_per_ear} every {status.renewal_months} months", status.renewal_per_ear),
        ("rental unit", f"one {status.rental_unit}, each at its own date's tariff", status.rental_unit),
        ("optics class", status.optics_class, status.optics_class),
        ("usual quantity", f"{status.usual_quantity} per line", status.usual_quantity),
        ("PECAN", f"{status.pecan} forfait", status.pecan),
    )
    rows += [(name, str(text)) for name, text, present in extra if present is not None]
    lines = [f"LPP {status.code}: {status.label}", f"  on {status.day.isoformat()}: {verdict}"]
    lines += [f"  {name:<18}{value}" for name, value in rows]
    lines += [f"  condition         {condition}" for condition in conditions]
    return lines


@app.command(
    cls=ToolCommand,
    short_help="Show an LPP code's status on a day (verify before buying).",
    epilog="Exit 0 found, 1 the code is not in the LPP table on the day, 2 malformed input.",
)
def lookup(
    ctx: typer.Context,
    code: Annotated[
        str, typer.Argument(metavar="CODE", help="the LPP code, 7 characters", show_default=False)
    ],
    day: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="the day (default: today, Europe/Paris)"),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            metavar="text|json",
            parser=choice(OutputFormat),
            help="text: a card; json: the ChargeItemDefinition",
        ),
    ] = OutputFormat.TEXT,
) -> None:
    """Show the LPP row in force for CODE on a day, from the configured LPP table
    (ADAPTER_LPP_TABLE, else the demo table): tarif, PLV, validity, conditions."""
    import re
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from adapter.domain.values import LppCode
    from adapter.errors import ReferenceDataError
    from adapter.settings import Settings
    from mappings.fhir import jsonio
    from mappings.outbound import to_charge_item_definition

    if not re.fullmatch(r"[0-9A-Z]{7}", code):
        raise fail(f"CODE {code!r} is not an LPP code (7 characters, digits or upper-case letters)")
    try:
        on = date.fromisoformat(day) if day is not None and len(day) == 10 else None
    except ValueError:
        on = None
    if day is not None and on is None:
        raise fail(f"--date {day!r} is not a day (YYYY-MM-DD)")
    on = on or datetime.now(ZoneInfo("Europe/Paris")).date()
    settings = Settings()
    try:
        table = _composition(ctx).lpp_table(settings)
    except ReferenceDataError as exc:
        raise fail(exc.message) from None
    row = table.lookup(LppCode(code), on)
    if row is None:
        raise fail(f"LPP code {code} is not in the LPP table on {on.isoformat()}", EXIT_REFUSED)
    status = row.status(on)
    resource = to_charge_item_definition(status, canon=settings.canon)
    if output is OutputFormat.JSON:
        _write(jsonio.dumps(resource, indent=2))
    else:
        conditions = [condition["description"] for condition in resource.get("applicability", [])]
        for line in _card(status, conditions):
            typer.echo(line)
    raise typer.Exit(EXIT_OK)


def _open_service(composition: Composition, settings: Settings) -> StoreService:
    """The service on the configured store, or a one-line error and exit 3 when the database
    cannot be reached."""
    from adapter.errors import StoreUnavailable

    try:
        return composition.service(settings)
    except StoreUnavailable as exc:
        raise fail(exc.message, EXIT_UNAVAILABLE) from None


def _composition(ctx: typer.Context) -> Composition:
    """The composition the command runs on: the caller's (a test's fake payers) or the default."""
    from adapter.bootstrap import Composition

    return ctx.obj if isinstance(ctx.obj, Composition) else Composition()


@app.command(
    cls=ToolCommand,
    short_help="Ask what would be reimbursed, in process.",
    epilog="Exit 0 all answered, 1 any refused, 2 usage error or unreadable file.",
)
def eligibility(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH…",
            show_default=False,
            help="eligibility Bundles (a CoverageEligibilityRequest first), JSON or XML",
        ),
    ],
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            metavar="text|json",
            parser=choice(OutputFormat),
            help="text: each payer's answer, a line per device; json: the answer Bundle "
            '(several files: one JSON line each, {"file", "status", "resource"})',
        ),
    ] = OutputFormat.TEXT,
    now: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="the time of the answer, ISO 8601 with a UTC offset (default: now)",
        ),
    ] = None,
) -> None:
    """Answer eligibility questions with the in-process reference payers, as
    CoverageEligibilityRequest/$submit does: rights on the planned day, the taux and why, per
    device the BR, the AMO and AMC amounts, the reste à charge, the forfait and renewal left
    and whether an accord préalable is needed. The history and ledger are empty (nothing is
    stored, nothing consumed)."""
    from datetime import UTC, datetime

    from adapter.settings import Settings
    from mappings.fhir import jsonio
    from mappings.outbound import to_operation_outcome

    try:
        moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    except ValueError:
        raise fail(f"--now {now!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise fail("--now needs a UTC offset, e.g. 2026-12-15T11:00:00+01:00")
    expanded = _files(files, twins=False)
    settings = Settings()
    inputs = read_all(expanded.files)
    composition = _composition(ctx)
    flow = composition.eligibility_flow(settings, in_process=True)
    records = composition.scratch_records()
    refused = False
    for path, data in inputs:
        try:
            question = flow.read(data, _format(path, data))
        except InputError as exc:
            refused = True
            if output is OutputFormat.JSON:
                outcome = to_operation_outcome(exc.issues, canon=settings.canon)
                _write(
                    jsonio.dumps(
                        _tagged(path, exc.http_status, "resource", outcome) if expanded.several else outcome
                    )
                )
            else:
                _report_refusal(path, exc.http_status, exc.issues)
            continue
        assessed = flow.assess(question, records=records, now=moment)
        if output is OutputFormat.JSON:
            resource = assessed.response
            _write(
                jsonio.dumps(_tagged(path, 200, "resource", resource))
                if expanded.several
                else jsonio.dumps(resource, indent=2)
            )
        else:
            if expanded.several:
                typer.echo(f"{path}:")
            for line in _eligibility_card(assessed):
                typer.echo(line)
    raise typer.Exit(EXIT_REFUSED if refused else EXIT_OK)


def _quantity(value: object) -> str:
    """Euros as the other cards write them, units as a number."""
    en = getattr(value, "en", None)
    return str(en()) if callable(en) else str(value)


def _eligibility_card(assessed: Any) -> list[str]:
    """Each payer's answer as lines: rights and taux, then one line per device."""
    lines: list[str] = []
    for answer in (assessed.amo, assessed.amc):
        if answer is None:
            continue
        who = "AMO" if answer.payer.value == "amo" else "Mutuelle"
        rights = "rights open" if answer.rights_open else "rights CLOSED"
        head = f"{who} {answer.insurer}: {rights} on {answer.serviced.isoformat()}"
        if answer.rate is not None and answer.basis is not None:
            head += f"; taux {answer.rate.normalize():f} % ({answer.basis.en})"
        lines.append(head)
        lines.extend(f"  note: {note.en}" for note in answer.notes)
        for item in answer.items:
            parts = [
                f"BR {item.eligible.en()}",
                f"{who} {item.benefit.en()}",
                f"reste à charge {item.reste_a_charge.en()}",
            ]
            if answer.payer.value == "amo":
                parts.append(f"accord préalable {'needed' if item.accord_prealable else 'not needed'}")
            for label, allowance in (
                ("forfait", item.forfait),
                ("renewal", item.renewal),
                ("yearly cap", item.yearly),
            ):
                if allowance is not None:
                    months = getattr(allowance, "months", None)
                    per = f" per {months} months" if months else " this year"
                    left, allowed = _quantity(allowance.remaining), _quantity(allowance.allowed)
                    parts.append(f"{label} {left} left of {allowed}{per}")
            status = "" if item.covered else " NOT COVERED"
            lines.append(f"  {item.lpp_code.value}{status}: " + ", ".join(parts))
            lines.extend(f"    {reason.code}: {reason.text}" for reason in item.reasons)
    return lines


@app.command(
    cls=ToolCommand,
    short_help="Adjudicate Bundles in process and print the answers.",
    epilog="Exit 0 all adjudicated, 1 any refused, 2 usage error or unreadable file.",
)
def submit(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH…",
            show_default=False,
            help="submission Bundles, JSON or XML, adjudicated in the order given; a directory "
            "gives its files in path order, without sidecars and without an XML twin whose JSON "
            "file sits beside it",
        ),
    ],
    output: Annotated[
        WireFormat,
        typer.Option(
            "--format", metavar="json|xml", parser=choice(WireFormat), help="format of the printed answers"
        ),
    ] = WireFormat.JSON,
    now: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="adjudication time, ISO 8601 with a UTC offset, e.g. 2026-12-15T11:00:00+01:00 "
            "(default: now)",
        ),
    ] = None,
) -> None:
    """Adjudicate Bundles with the in-process reference payers and print one answer per file.

    The files share one in-memory delivery history and AMC ledger, in the order given, so a
    claim can spend a yearly forfait that a later one then finds partly used. Nothing outlives
    the run, and a Bundle given twice is adjudicated twice (the second time its deliveries are
    duplicates: there is no idempotency store here).

    One file prints an indented document. Several files (or a directory) print one line per
    file, in order: in JSON {"file", "status", "resource"}, in XML the document with the file
    named in a comment. A refused file's answer is an OperationOutcome. Nothing is adjudicated
    when a file cannot be read or --now is wrong.
    """
    from datetime import UTC, datetime

    from adapter.settings import Settings
    from mappings.fhir import jsonio
    from mappings.fhir.xml import dump_xml
    from mappings.outbound import to_operation_outcome

    try:
        moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    except ValueError:
        raise fail(f"--now {now!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise fail("--now needs a UTC offset, e.g. 2026-12-15T11:00:00+01:00")
    expanded = _files(files, twins=False)
    several = expanded.several

    def emit(path: Path, status: int, resource: dict[str, Any]) -> None:
        if output is WireFormat.XML:
            document = dump_xml(resource, pretty=not several)
            _write(_xml_tagged(document, path) if several else document)
        elif several:
            _write(jsonio.dumps(_tagged(path, status, "resource", resource)))
        else:
            _write(jsonio.dumps(resource, indent=2))

    settings = Settings()
    inputs = read_all(expanded.files)
    composition = _composition(ctx)
    flow = composition.flow(settings, in_process=True)
    records = composition.scratch_records()
    for note in _order_notes(expanded.files):
        typer.echo(note, err=True)
    tally = Tally("adjudicating", len(inputs))
    with tally.bar() as bar:
        for path, data in inputs:
            try:
                submission = flow.read(data, _format(path, data))
            except InputError as exc:
                emit(path, exc.http_status, to_operation_outcome(exc.issues, canon=settings.canon))
                tally.record(False)
            else:
                emit(path, 200, flow.adjudicate(submission, records=records, now=moment).response)
                tally.record(True)
            bar.advance()
    tally.summary(passed="adjudicated", failed="refused")
    raise typer.Exit(EXIT_REFUSED if tally.failed else EXIT_OK)


def _order_notes(paths: list[Path]) -> list[str]:
    """A note for each fixture whose ``.meta.json`` names scenarios (``preceded-by``) that this
    run does not submit before it: its answer will then differ from the kit's."""
    import json

    notes, earlier = [], set()
    for path in paths:
        meta = path.with_name(f"{path.stem}.meta.json")
        try:
            wanted = (
                json.loads(meta.read_text(encoding="utf-8")).get("preceded-by", []) if meta.exists() else []
            )
        except (OSError, ValueError, AttributeError):
            wanted = []
        missing = [str(name) for name in wanted if str(name) not in earlier]
        if missing:
            notes.append(
                f"note: {path}: its {meta.name} says to submit {', '.join(missing)} before it, "
                "in the same run (fixtures/README.md)"
            )
        earlier.add(path.stem)
    return notes


def next_steps(host: str, port: int) -> str:
    """The steps ``adapter serve`` prints in development mode; the README shows them verbatim
    for the default address."""
    base = f"http://{host}:{port}"
    return (
        "TOKEN=$(.venv/bin/adapter dev-token)        # 1. a development bearer token\n"
        f"curl -s -X POST '{base}/Claim/$submit' \\\n"
        "     -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/fhir+json' \\\n"
        "     --data-binary @fixtures/valid/01-purchase-standard.json          # 2. submit a fixture Bundle\n"
        'curl -s -H "Authorization: Bearer $TOKEN" \\\n'
        f"     '{base}/ClaimResponse?patient.identifier=258037511490172'   # 3. read the answers back\n"
        f'echo "$TOKEN"   # 4. or open {base}/console in a browser and paste the token to sign in'
    )


def _dev_key_path(settings: Settings) -> Path:
    from adapter.auth.devkeys import DEV_KEY_FILE

    return (settings.data_dir / DEV_KEY_FILE).absolute()


@app.command(
    cls=ToolCommand,
    short_help="Run the HTTP service.",
    epilog="Exit 0 stopped, 2 usage error or address in use, 3 a worker failed to start.",
)
def serve(
    host: Annotated[str, typer.Option(metavar="HOST", help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", min=0, max=65535, help="port to bind")] = 8080,
    workers: Annotated[
        int, typer.Option(metavar="N", min=1, help="worker processes (state lives in the database)")
    ] = 1,
    reuse_port: Annotated[
        bool,
        typer.Option(
            help="with several workers on Linux, a listening socket per worker (SO_REUSEPORT), so that "
            "the kernel spreads connections over them; off: uvicorn's one shared socket"
        ),
    ] = True,
) -> None:
    """Run the HTTP service under uvicorn (settings from ADAPTER_* environment variables)."""
    from adapter import serving
    from adapter.api.logging import make_logger
    from adapter.bootstrap import utc_now
    from adapter.settings import Settings

    settings = Settings()
    if port != 0:
        try:
            serving.check_address_free(host, port)
        except UsageError as exc:
            raise fail(str(exc)) from None
    if settings.auth == "jwt" and settings.jwks_file is None and settings.jwks_url is None:
        typer.echo(
            f"Development mode: tokens are signed by the key {_dev_key_path(settings)} "
            "(ADAPTER_DATA_DIR). Next steps, in a second terminal:\n" + next_steps(host, port),
            err=True,
        )
    options = {
        "app": "adapter.bootstrap:app_from_env",
        "factory": True,
        "host": host,
        "port": port,
        "access_log": False,
        "log_config": None,  # the app configures masked JSON logging for everything
        "log_level": settings.log_level.lower(),
        # Slow clients: headers (HeaderTimeoutProtocol) and bodies (the app) have deadlines,
        # idle keep-alive connections close, and a worker holds a bounded number of them.
        "http": "adapter.serving:HeaderTimeoutProtocol",
        "timeout_keep_alive": settings.http_keepalive_timeout,
        "limit_concurrency": settings.http_limit_concurrency,
    }
    log = make_logger(clock=utc_now, level=settings.log_level)
    try:
        status = serving.serve(options, workers=workers, reuse_port=reuse_port, log=log)
    except UsageError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(status)


@app.command(
    cls=ToolCommand,
    short_help="Empty the stored bodies past the retention period.",
    epilog="Exit 0 purged, 2 usage error, 3 the database cannot be reached.",
)
def purge(
    ctx: typer.Context,
    older_than_days: Annotated[
        int | None,
        typer.Option(
            "--older-than-days",
            metavar="N",
            min=1,
            help="age in days (default: ADAPTER_RETENTION_DAYS)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Empty the stored bodies of submissions older than the retention period.

    Keeps what idempotency and the audit need (key, content hash, ids, answer): a resubmission
    still replays the stored answer byte for byte, and GET /Claim/{id} answers 404. Run it
    daily (cron, a systemd timer). Exit 0 with the count purged; 3 when the database cannot be
    reached.
    """
    from datetime import UTC, datetime, timedelta

    from adapter.errors import StoreUnavailable
    from adapter.settings import Settings

    settings = Settings()
    days = older_than_days or settings.retention_days
    try:
        service = _composition(ctx).service(settings)
        try:
            count = service.purge(older_than=timedelta(days=days), now=datetime.now(UTC))
        finally:
            service.store.dispose()
    except StoreUnavailable as exc:
        raise fail(exc.message, EXIT_UNAVAILABLE) from None
    typer.echo(f"purged the bodies of {count} submissions received more than {days} days ago")


class PayerRole(StrEnum):
    AMO = "amo"
    AMC = "amc"


@app.command(
    "payer-sim",
    cls=ToolCommand,
    short_help="Serve the reference payers over the payer protocol.",
    epilog="Exit 0 stopped, 2 usage error or address in use.",
)
def payer_sim(
    ctx: typer.Context,
    role: Annotated[
        PayerRole, typer.Option("--role", metavar="amo|amc", help="the payer to simulate", show_default=False)
    ],
    host: Annotated[str, typer.Option(metavar="HOST", help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", min=0, max=65535, help="port to bind")] = 8090,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", metavar="N", min=0, help="milliseconds before every answer")
    ] = 0.0,
    fail_rate: Annotated[
        float,
        typer.Option("--fail-rate", metavar="P", min=0, max=1, help="probability that an exchange fails"),
    ] = 0.0,
    spike_rate: Annotated[
        float,
        typer.Option(
            "--spike-rate", metavar="P", min=0, max=1, help="probability of a ten times longer delay"
        ),
    ] = 0.0,
    seed: Annotated[
        int | None,
        typer.Option(metavar="N", help="seed of the fault draws, to repeat a run", show_default=False),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            metavar="DIR",
            help="its own records (default: payer-sim-ROLE in the data directory)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the reference payers over the payer protocol (docs/payer-protocol.md), as a remote
    AMO or AMC would: with records of its own, a count of decisions per idempotency key
    (GET /_stats) and faults injected on demand (PUT /_faults). As the AMC it also receives the
    decisions the adapter delivers, applied once per event id (POST /amc/deliveries, listed at
    GET /_deliveries; docs/delivery.md)."""
    import uvicorn

    from adapter import serving
    from adapter.payersim import Faults, SimState, create_sim_app
    from adapter.settings import Settings

    if port != 0:
        try:
            serving.check_address_free(host, port)
        except UsageError as exc:
            raise fail(str(exc)) from None
    settings = Settings()
    folder = data_dir if data_dir is not None else settings.data_dir / f"payer-sim-{role.value}"
    state = SimState(folder / "payer.sqlite3")
    faults = Faults(fail_rate=fail_rate, latency_ms=latency_ms, spike_rate=spike_rate)
    composition = _composition(ctx)
    payers = composition.reference_payers(settings)
    sim = create_sim_app(
        role.value,
        payers,
        state,
        faults=faults,
        seed=seed,
        eligibility=composition.eligibility_payers(settings),
    )
    typer.echo(f"payer simulator ({role.value}) on http://{host}:{port}, records in {folder}", err=True)
    try:
        uvicorn.run(sim, host=host, port=port, log_level="warning", access_log=False)
    finally:
        state.close()


@app.command(
    cls=ToolCommand,
    short_help="Complete pended claims and deliver events.",
    epilog=(
        "Exit 0 stopped (SIGTERM, Ctrl-C), 2 usage error (no routing file, no event stream), 3 no database."
    ),
)
def worker(ctx: typer.Context) -> None:
    """Run the worker that completes claims pended while the remote payers did not answer
    (docs/payer-protocol.md) and delivers the events to the mutuelles, the event stream and the
    subscriptions (docs/delivery.md), until SIGTERM or Ctrl-C. Any number may run against PostgreSQL;
    adapter serve runs one of its own unless ADAPTER_WORKER_EMBEDDED=false."""
    import asyncio
    import signal

    from adapter.flow import RemotePair
    from adapter.settings import Settings

    settings = Settings()
    if settings.payer_routes is None and settings.events_url is None and not settings.subscriptions:
        raise fail(
            "the worker completes claims for remote payers and delivers events: "
            "set ADAPTER_PAYER_ROUTES or ADAPTER_EVENTS_URL, or keep ADAPTER_SUBSCRIPTIONS on"
        )
    composition = _composition(ctx)
    service = _open_service(composition, settings)
    subscriptions = composition.subscriptions(service, settings)
    pended = composition.worker(service, settings, subscriptions=subscriptions)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await pended.run(stop)
        finally:
            payers = service.flow.payers
            if isinstance(payers, RemotePair) and payers.close is not None:
                await payers.close()
            if subscriptions is not None:
                await subscriptions.close()

    typer.echo(f"worker {pended.name} started", err=True)
    try:
        asyncio.run(run())
    finally:
        service.store.dispose()


@app.command(
    "dead-letters",
    cls=ToolCommand,
    short_help="List the claims the payers never decided, or requeue one.",
    epilog="Exit 0 listed or requeued, 1 nothing to requeue under that id, 3 the database cannot be reached.",
)
def dead_letters(
    ctx: typer.Context,
    requeue: Annotated[
        str | None,
        typer.Option(
            "--requeue", metavar="ID", help="ask the payers again for this claim", show_default=False
        ),
    ] = None,
) -> None:
    """List the dead-lettered claims (id, received, reason), one per line, or requeue one: it
    becomes pending again and the worker asks its payers with the same keys."""
    from datetime import UTC, datetime

    from adapter.access import Caller
    from adapter.service import Requeue
    from adapter.settings import Settings

    settings = Settings()
    operator = Caller(client_id="operator", everything=True)
    service = _open_service(_composition(ctx), settings)
    try:
        if requeue is not None:
            done = service.requeue_claim(requeue, caller=operator, now=datetime.now(UTC))
            if done is Requeue.NOT_FOUND:
                raise fail(f"no claim {requeue}", EXIT_REFUSED)
            if done is Requeue.NOT_DEAD:
                raise fail(f"{requeue} is not a dead-lettered claim", EXIT_REFUSED)
            typer.echo(f"{requeue} requeued")
            return
        for row in service.dead_letters(caller=operator):
            typer.echo(f"{row.id}\t{row.received_at.isoformat()}\t{row.dead_reason or ''}")
    finally:
        service.store.dispose()


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@app.command(
    "deliveries",
    cls=ToolCommand,
    short_help="List the deliveries of events, or requeue one.",
    epilog="Exit 0 listed or requeued, 1 nothing to requeue under that id, 3 the database cannot be reached.",
)
def deliveries(
    ctx: typer.Context,
    state: Annotated[
        DeliveryState | None,
        typer.Option(
            "--state",
            metavar="pending|delivered|dead",
            help="only the deliveries in this state",
            show_default=False,
        ),
    ] = None,
    requeue: Annotated[
        int | None,
        typer.Option(
            "--requeue", metavar="ID", min=1, help="send this dead delivery again", show_default=False
        ),
    ] = None,
) -> None:
    """List the deliveries (id, state, destination/target, event type, claim, attempts, last error),
    one per line, oldest first, or requeue a dead one: it is sent again with the same event id
    (docs/delivery.md)."""
    from datetime import UTC, datetime

    from adapter.access import Caller
    from adapter.service import Requeue
    from adapter.settings import Settings

    settings = Settings()
    operator = Caller(client_id="operator", everything=True)
    service = _open_service(_composition(ctx), settings)
    try:
        if requeue is not None:
            done = service.requeue_delivery(requeue, caller=operator, now=datetime.now(UTC))
            if done is Requeue.NOT_FOUND:
                raise fail(f"no delivery {requeue}", EXIT_REFUSED)
            if done is Requeue.NOT_DEAD:
                raise fail(f"delivery {requeue} is not in the dead letters", EXIT_REFUSED)
            typer.echo(f"delivery {requeue} requeued")
            return
        for row in service.deliveries(
            caller=operator, state=None if state is None else state.value, limit=1000
        ):
            typer.echo(
                f"{row.id}\t{row.state}\t{row.destination}/{row.target}\t{row.event_type}\t{row.claim_id}"
                f"\t{row.attempts}\t{row.last_error or ''}"
            )
    finally:
        service.store.dispose()


@app.command(
    "dev-token",
    cls=ToolCommand,
    short_help="Print a development access token.",
    epilog="Exit 0 token printed, 1 the development key cannot be used, 2 usage error.",
)
def dev_token(
    client_id: Annotated[
        str, typer.Option("--client-id", metavar="ID", help="the token's client_id")
    ] = "dev-client",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            metavar="SCOPE",
            show_default=False,
            help="a scope, repeatable (default: system/Claim.write and system/ClaimResponse.read)",
        ),
    ] = None,
    lifetime: Annotated[int, typer.Option(metavar="SECONDS", min=60, help="validity, at least 60")] = 3600,
) -> None:
    """Print a development access token, signed by the development key that adapter serve
    uses (under ADAPTER_DATA_DIR; its path goes to stderr)."""
    from datetime import UTC, datetime

    from adapter.auth import mint_dev_token
    from adapter.settings import Settings

    settings = Settings()
    token = mint_dev_token(
        settings.data_dir,
        client_id=client_id,
        scopes=scope or ["system/Claim.write", "system/ClaimResponse.read"],
        now=datetime.now(UTC),
        lifetime=lifetime,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    typer.echo(f"signed by the development key {_dev_key_path(settings)}", err=True)
    typer.echo(token)


@app.command(
    "reset-store",
    cls=ToolCommand,
    short_help="Start again from an empty development store.",
    epilog="Exit 0 emptied (or nothing to remove), 1 refused.",
)
def reset_store(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="the sqlite:/// URL to empty when ADAPTER_DATABASE_URL names one (it must be the same)",
        ),
    ] = None,
) -> None:
    """Start again from an empty store: remove the SQLite file of the embedded default.

    Only the default file (adapter.sqlite3 under ADAPTER_DATA_DIR) is removed, unless
    ADAPTER_DATABASE_URL names another SQLite file and --database-url repeats that URL. A
    server database (PostgreSQL) is never touched. The development key stays; the schema is
    created again at the next start. Stop the service first.
    """
    from adapter.settings import Settings

    settings = Settings()
    url = settings.effective_database_url
    if settings.database_url and database_url != settings.database_url:
        raise fail(
            f"ADAPTER_DATABASE_URL names {settings.database_url!r}: reset-store only empties the "
            "default SQLite file, or the URL repeated with --database-url",
            EXIT_REFUSED,
        )
    if database_url is not None and database_url != url:
        raise fail(f"--database-url {database_url!r} is not the store's URL {url!r}", EXIT_REFUSED)
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        raise fail(f"{url!r} is not a SQLite file: reset-store never touches a server database", EXIT_REFUSED)
    database = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    removed = []
    for path in (database, *(Path(f"{database}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        if path.exists():
            path.unlink()
            removed.append(path)
    if removed:
        typer.echo(f"removed {', '.join(map(str, removed))}: the next start begins with an empty store")
    else:
        typer.echo(f"{database} does not exist: the store is already empty")
    raise typer.Exit(EXIT_OK)


def _writable(option: str, path: Path | None) -> None:
    """Refuse a report path whose directory is missing before the run, not after it."""
    if path is not None and not path.parent.is_dir():
        raise fail(f"{option} {path}: no such directory {path.parent}")


@app.command(
    cls=ToolCommand,
    short_help="Check a service against the fixture kit.",
    epilog="Exit 0 all passed, 1 a fixture failed, 2 service or kit unreachable.",
)
def conformance(
    ctx: typer.Context,
    base_url: Annotated[
        str, typer.Option("--base-url", metavar="URL", help="the FHIR base of the service under test")
    ] = "http://127.0.0.1:8080",
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            metavar="TOKEN",
            envvar="ADAPTER_CONFORMANCE_TOKEN",
            show_default=False,
            help="bearer access token with system/Claim.write (none when authentication is off)",
        ),
    ] = None,
    fixtures: Annotated[Path, typer.Option("--fixtures", metavar="DIR", help="the fixture kit")] = Path(
        "fixtures"
    ),
    canonical_base: Annotated[
        str | None,
        typer.Option(
            "--canonical-base",
            metavar="URL",
            show_default=False,
            help="base of the error and adjudication code systems (default: the adapter's)",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(metavar="SECONDS", min=1.0, help="per request")] = 60.0,
    report: Annotated[
        Path | None,
        typer.Option("--report", metavar="FILE", show_default=False, help="write every verdict as JSON"),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", metavar="FILE", show_default=False, help="write the verdicts as JUnit XML"),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            show_default=False,
            help="write a self-contained HTML report (a row per fixture; expected and actual side by side)",
        ),
    ] = None,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process",
            help="check this adapter itself, built here on a throwaway SQLite store (no server, no token)",
        ),
    ] = False,
) -> None:
    """Send the fixture kit to a running service and check every answer (fixtures/README.md).

    Use a fresh store (or one that already holds the kit: the answers are then replays). One
    verdict per fixture, then a summary table; a progress bar on a terminal.
    """
    import contextlib

    import httpx

    from adapter import reports
    from adapter.conformance import Kit, planned, run
    from mappings.systems import DEFAULT_BASE

    for option, path in (("--report", report), ("--junit", junit), ("--html", html)):
        _writable(option, path)
    kit = Kit(fixtures, canonical_base=canonical_base or DEFAULT_BASE)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    target = "this adapter, in process" if in_process else base_url
    try:
        tally = Tally("conformance", planned(kit), stream=sys.stderr)
        with contextlib.ExitStack() as stack:
            if in_process:
                client = stack.enter_context(_in_process_client(_composition(ctx)))
            else:
                remote = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)
                client = stack.enter_context(remote)
            bar = stack.enter_context(tally.bar())

            def checked(check: object) -> None:
                bar.advance()

            checks = run(client, kit, on_check=checked)
    except (FileNotFoundError, UsageError) as exc:
        raise fail(str(exc)) from None
    except httpx.HTTPError as exc:
        raise fail(f"{base_url}: {exc}") from None
    for check in checks:
        tally.record(check.passed)
        typer.echo(f"{'ok  ' if check.passed else 'FAIL'} {check.fixture}")
        for problem in check.problems:
            typer.echo(f"     {problem}")
    typer.echo(f"{tally.passed} passed, {tally.failed} failed")
    tally.summary()
    writers = (
        (report, reports.json_report),
        (junit, reports.junit_xml),
        (html, lambda found: reports.html_report(found, target=target)),
    )
    for path, render in writers:
        if path is None:
            continue
        try:
            path.write_bytes(render(checks))
        except OSError as exc:
            raise fail(f"cannot write {path}: {exc.strerror}") from None
    raise typer.Exit(EXIT_REFUSED if tally.failed else EXIT_OK)


@contextmanager
def _in_process_client(composition: Composition) -> Iterator[httpx.Client]:
    """An HTTP client on the adapter's own app, on a throwaway SQLite store with authentication
    off: the service a deployment runs, without a server. Nothing of the environment's database
    or clients file is used."""
    import tempfile
    import warnings

    from adapter.settings import Settings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
        from starlette.testclient import TestClient

    with tempfile.TemporaryDirectory(prefix="adapter-conformance-") as scratch:
        settings = Settings(
            data_dir=Path(scratch), database_url=None, auth="disabled", clients_file=None, log_level="ERROR"
        )
        with TestClient(composition.app(settings), base_url="http://adapter.in-process") as client:
            yield client


def main() -> None:
    """Console-script entry point (on the default composition)."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
