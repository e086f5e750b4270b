"""The ``adapter`` command: validate, convert and map Bundles, submit them, serve the API, run
the conformance kit against a service.

Exit codes: 0 success (valid, adjudicated), 1 the input was refused (an OperationOutcome
says why), 2 usage errors or an unreadable file, 3 the database cannot be reached (``serve``
at start, ``purge``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adapter.errors import InputError, Issue, UsageError
from adapter.intake import Format, Limits, parse_payload, read_submission

if TYPE_CHECKING:
    import httpx

    from adapter.bootstrap import Composition

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="FHIR R4 reimbursement adapter for French medical devices (LPP).",
)

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class WireFormat(StrEnum):
    JSON = "json"
    XML = "xml"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {path}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _format(path: Path, data: bytes, given: WireFormat | None = None) -> Format:
    if given is not None:
        return Format(given.value)
    return Format.from_path(path) or Format.sniff(data)


def _write(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    if not data.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()


def _describe(issue: Issue) -> str:
    where = f" at {issue.expression}" if issue.expression else ""
    return f"  {issue.severity.value}: [{issue.code}]{where}: {issue.message}"


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Bundles to check (JSON or XML)")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text, or json (an OperationOutcome per file)")
    ] = (OutputFormat.TEXT),
) -> None:
    """Check submission Bundles against FHIR R4 and the adapter's conventions."""
    from mappings.fhir import jsonio
    from mappings.outbound import all_ok, to_operation_outcome

    worst = EXIT_OK
    for path in files:
        data = _read(path)
        try:
            submission = read_submission(data, _format(path, data))
            status, issues = 200, submission.warnings
        except InputError as exc:
            status, issues = exc.http_status, exc.issues
            worst = EXIT_REFUSED
        if output is OutputFormat.JSON:
            outcome = to_operation_outcome(issues) if issues else all_ok(f"{path.name} is a valid submission")
            _write(jsonio.dumps(outcome))
        else:
            verdict = "valid" if status == 200 else f"invalid ({status})"
            typer.echo(f"{path}: {verdict}")
            for issue in issues:
                typer.echo(_describe(issue))
    raise typer.Exit(worst)


@app.command()
def convert(
    file: Annotated[Path, typer.Argument(help="a FHIR resource, JSON or XML")],
    to: Annotated[WireFormat, typer.Option("--to", help="target format")],
    out: Annotated[Path | None, typer.Option("-o", "--output", help="write here instead of stdout")] = None,
) -> None:
    """Convert any FHIR R4 resource between JSON and XML (checked against the R4 model)."""
    from mappings.fhir import jsonio, structure_issues, walk
    from mappings.fhir.xml import dump_xml

    data = _read(file)
    try:
        resource = parse_payload(data, _format(file, data), Limits())
        walked = walk(resource)
        issues = walked.parse or structure_issues(resource)
    except InputError as exc:
        issues = list(exc.issues)
    if issues:
        for issue in issues:
            typer.echo(_describe(issue), err=True)
        raise typer.Exit(EXIT_REFUSED)
    result = dump_xml(resource, pretty=True) if to is WireFormat.XML else jsonio.dumps(resource, indent=2)
    if out is None:
        _write(result)
    else:
        out.write_bytes(result)


@app.command("map")
def map_(file: Annotated[Path, typer.Argument(help="a submission Bundle, JSON or XML")]) -> None:
    """Print the internal reimbursement request a Bundle maps to, as JSON."""
    import json

    from adapter.domain.jsonable import to_jsonable

    data = _read(file)
    try:
        submission = read_submission(data, _format(file, data))
    except InputError as exc:
        for issue in exc.issues:
            typer.echo(_describe(issue), err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    typer.echo(json.dumps(to_jsonable(submission.request), indent=2, ensure_ascii=False))


def _composition(ctx: typer.Context) -> Composition:
    """The composition the command runs on: the caller's (a test's fake payers) or the default."""
    from adapter.bootstrap import Composition

    return ctx.obj if isinstance(ctx.obj, Composition) else Composition()


@app.command()
def submit(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="submission Bundles, JSON or XML, adjudicated in this order")
    ],
    output: Annotated[WireFormat, typer.Option("--format", help="format of the printed response Bundles")] = (
        WireFormat.JSON
    ),
    now: Annotated[
        str | None, typer.Option(help="adjudication time, ISO 8601 with offset (default: the current time)")
    ] = None,
) -> None:
    """Adjudicate Bundles with the in-process reference payers and print one response per file.

    The files share one in-memory delivery history and AMC ledger, in the order given, so
    a claim can spend a yearly forfait that a later one then finds partly used; nothing
    outlives the run, and a Bundle given twice is adjudicated twice (the second time its
    deliveries are duplicates: there is no idempotency store here). One file prints an
    indented document; several print one compact document per line, in order (an
    OperationOutcome for a refused file). Exit 0 when every file was adjudicated, 1 when any
    was refused (the others are still answered), 2 before any work when a file cannot be
    read or ``--now`` is wrong.
    """
    from datetime import UTC, datetime

    from adapter.settings import Settings
    from mappings.fhir import jsonio
    from mappings.fhir.xml import dump_xml
    from mappings.outbound import to_operation_outcome

    pretty = len(files) == 1

    def emit(resource: dict[str, object]) -> None:
        if output is WireFormat.XML:
            _write(dump_xml(resource, pretty=pretty))
        else:
            _write(jsonio.dumps(resource, indent=2 if pretty else None))

    settings = Settings()
    try:
        moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    except ValueError:
        typer.echo(f"error: --now {now!r} is not an ISO 8601 date-time", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    if moment.tzinfo is None:
        typer.echo("error: --now needs a UTC offset", err=True)
        raise typer.Exit(EXIT_USAGE)
    inputs = [(path, _read(path)) for path in files]
    composition = _composition(ctx)
    flow = composition.flow(settings)
    records = composition.scratch_records()
    worst = EXIT_OK
    for path, data in inputs:
        try:
            submission = flow.read(data, _format(path, data))
        except InputError as exc:
            emit(to_operation_outcome(exc.issues, canon=settings.canon))
            worst = EXIT_REFUSED
            continue
        emit(flow.adjudicate(submission, records=records, now=moment).response)
    raise typer.Exit(worst)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port to bind")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="worker processes (state lives in the database)")] = 1,
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
    if settings.auth == "jwt" and settings.jwks_file is None and settings.jwks_url is None:
        typer.echo(
            "Development mode: tokens are signed by a local key under "
            f"{settings.data_dir}/. Next steps:\n"
            "  TOKEN=$(.venv/bin/adapter dev-token)\n"
            f'  curl -s -X POST http://{host}:{port}/Claim/\\$submit -H "Authorization: Bearer $TOKEN" '
            "-H 'Content-Type: application/fhir+json' "
            "--data-binary @fixtures/valid/01-purchase-standard.json\n"
            f'  curl -s -H "Authorization: Bearer $TOKEN" http://{host}:{port}/ClaimResponse',
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
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    raise typer.Exit(status)


@app.command()
def purge(
    ctx: typer.Context,
    older_than_days: Annotated[
        int | None,
        typer.Option("--older-than-days", min=1, help="age in days (default: ADAPTER_RETENTION_DAYS)"),
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
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    typer.echo(f"purged the bodies of {count} submissions received more than {days} days ago")


@app.command("dev-token")
def dev_token(
    client_id: Annotated[str, typer.Option("--client-id", help="the token's client_id")] = "dev-client",
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="repeatable; default: submit and read")
    ] = None,
    lifetime: Annotated[int, typer.Option(min=60, help="seconds")] = 3600,
) -> None:
    """Print a development access token signed by the local development key."""
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
    typer.echo(token)


@app.command()
def conformance(
    ctx: typer.Context,
    base_url: Annotated[
        str, typer.Option("--base-url", help="the FHIR base of the service under test")
    ] = "http://127.0.0.1:8080",
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="ADAPTER_CONFORMANCE_TOKEN",
            help="bearer access token with system/Claim.write (none when authentication is off)",
        ),
    ] = None,
    fixtures: Annotated[Path, typer.Option("--fixtures", help="the fixture kit")] = Path("fixtures"),
    canonical_base: Annotated[
        str | None, typer.Option("--canonical-base", help="base of the error and adjudication code systems")
    ] = None,
    timeout: Annotated[float, typer.Option(min=1.0, help="seconds per request")] = 60.0,
    report: Annotated[
        Path | None, typer.Option("--report", help="also write every verdict to this JSON file")
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

    Use a fresh store (or one that already holds the kit: the answers are then replays). Exit 0
    when every fixture passes, 1 when one fails, 2 when the service or the kit cannot be reached.
    """
    import contextlib
    import json

    import httpx

    from adapter.conformance import Kit, run
    from mappings.systems import DEFAULT_BASE

    kit = Kit(fixtures, canonical_base=canonical_base or DEFAULT_BASE)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with contextlib.ExitStack() as stack:
            if in_process:
                client = stack.enter_context(_in_process_client(_composition(ctx)))
            else:
                remote = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)
                client = stack.enter_context(remote)
            checks = run(client, kit)
    except (FileNotFoundError, UsageError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except httpx.HTTPError as exc:
        typer.echo(f"error: {base_url}: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    for check in checks:
        typer.echo(f"{'ok  ' if check.passed else 'FAIL'} {check.fixture}")
        for problem in check.problems:
            typer.echo(f"     {problem}")
    failed = sum(not check.passed for check in checks)
    typer.echo(f"{len(checks) - failed} passed, {failed} failed")
    if report is not None:
        verdicts = [{"fixture": c.fixture, "passed": c.passed, "problems": list(c.problems)} for c in checks]
        report.write_text(json.dumps(verdicts, indent=2) + "\n", encoding="utf-8")
    raise typer.Exit(EXIT_REFUSED if failed else EXIT_OK)


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
