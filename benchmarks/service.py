"""Service benchmark: the whole submit path in process, then ``$submit`` over HTTP under load.

Run with ``python -m benchmarks.service [--duration S] [--connections N] [--backends sqlite,postgresql]``
from the repository root (``make bench`` runs it after the other benchmarks). Both parts run in
one invocation, side by side, because the machine is shared and noisy:

1. In process, interleaved run by run, medians: ``StoreService.submit`` (intake, adjudication by
   the reference payers, persistence, the answer serialised) on a SQLite file and on PostgreSQL,
   against a bare ``Bundle.model_validate_json`` of the same bytes. Target: ≤ 2× the parse.
2. Over loopback HTTP: ``adapter serve --workers 2`` on SQLite and on PostgreSQL, and the echo
   endpoint of ``benchmarks.echo_app`` (parse + dump, uvicorn, two workers), each loaded by
   ``benchmarks.loadgen`` (wrk when installed) with N keep-alive connections, in alternating
   rounds after a warm-up. Targets: ≥ 50 % of the echo throughput, p99 < 100 ms.

Every request is the two-line claim of ``tests.support.requests`` made payable (a current LPP code, a
prescriber whose RPPS passes its check) with its own Bundle.identifier and its own synthetic
patient, so each one is adjudicated and paid rather than replayed or refused as a duplicate.
Servers, data directories and throwaway PostgreSQL databases live in a temporary directory or
on the server named by ``--postgres-url``, and are removed on exit, Ctrl-C included.
``--profile N`` adds a cProfile of N requests through the HTTP app with the cost of each step.
This is a measurement, not a test: it never fails a build.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import http.client
import os
import platform
import pstats
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from adapter.access import Caller
from adapter.api import create_app
from adapter.auth import authenticator_from_settings, mint_dev_token
from adapter.bootstrap import build_service, utc_now
from adapter.domain import BusinessIdentifier, Line, LppCode, Money, Prescriber, Prescription, Rpps
from adapter.intake import Format
from adapter.service.claims import StoreService
from adapter.settings import Settings
from adapter.store.engine import normalise_url
from benchmarks.loadgen import NIR_MARK, SEQ_MARK, Result, engine_for, fill, merge, run_load
from mappings.fhir import jsonio
from tests.support.bundles import as_bytes
from tests.support.requests import PATIENT_NIR, sample_bundle, sample_request

REPO = Path(__file__).resolve().parent.parent
FHIR_JSON = "application/fhir+json"
CALLER = Caller(client_id="bench", everything=True)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
WORKERS = 2
ROUND_SPACING = 100_000  # request numbers per round: fresh identifiers and patients every round
STARTUP_TIMEOUT = 120.0
READY_GRACE = 15.0
PIPELINE_TARGET = 2.0
THROUGHPUT_TARGET = 0.5
P99_TARGET_MS = 100.0


# -- the claim ----------------------------------------------------------------------------------


def claim_template() -> bytes:
    """The sample two-line claim, payable, with ``@SEQ@``/``@NIR@`` marks for the load generators.

    The factory's first line is a generic LPP code deactivated in 2021 and its RPPS fails the
    Luhn check, so every request would be refused whole; a purchase of the current demo code
    9900001 prescribed by a valid RPPS keeps two lines that both payers adjudicate and pay.
    """
    rental = sample_request().lines[1]
    purchase = Line(
        sequence=1,
        lpp_code=LppCode("9900001"),
        quantity=1,
        unit_price=Money.of("150.00"),
        delivery_date=date(2026, 3, 9),
    )
    prescription = Prescription(
        authored_on=date(2026, 2, 20),
        prescriber=Prescriber(rpps=Rpps("10000123454")),  # synthetic, passes Luhn
        lpp_code=LppCode("9900001"),
        quantity=1,
    )
    bundle = sample_bundle(
        submission=BusinessIdentifier(system="https://hospital.example/submissions", value="BENCH-SEQ"),
        lines=(purchase, rental),
        prescription=prescription,
    )
    data = as_bytes(bundle)
    nir = PATIENT_NIR.value.encode()
    if data.count(b'"BENCH-SEQ"') != 1 or data.count(nir) != 2:
        raise RuntimeError("the factory Bundle changed shape: update claim_template()")
    return data.replace(b'"BENCH-SEQ"', b'"BENCH-' + SEQ_MARK + b'"').replace(nir, NIR_MARK)


def _outcomes(answer: dict[str, Any]) -> list[str]:
    return [
        str(entry["resource"].get("outcome"))
        for entry in answer.get("entry", [])
        if entry["resource"]["resourceType"] == "ClaimResponse"
    ]


# -- PostgreSQL -----------------------------------------------------------------------------------


class Postgres:
    """Creates throwaway databases (``adapter_bench_<hex>``) and drops them all on close."""

    def __init__(self, admin_url: str) -> None:
        self.url = normalise_url(admin_url)
        self._admin: Engine = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._created: list[str] = []
        with self._admin.connect() as connection:
            connection.execute(text("SELECT 1"))

    def create(self) -> str:
        name = f"adapter_bench_{secrets.token_hex(6)}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        for name in self._created:
            with self._admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._created.clear()
        self._admin.dispose()


# -- part 1: in process ----------------------------------------------------------------------------


def _service(workdir: Path, database_url: str) -> StoreService:
    settings = Settings(
        data_dir=workdir,
        database_url=database_url,
        lpp_table=None,
        amc_contracts=None,
        lpp_aliases=(),
    )
    return build_service(settings)


def pipeline(template: bytes, databases: dict[str, str], workdir: Path, runs: int) -> dict[str, float]:
    """Median milliseconds of the bare parse (``"parse"``) and of ``submit`` on each database."""
    services = {name: _service(workdir / f"inprocess-{name}", url) for name, url in databases.items()}
    now = datetime.now(UTC)

    def submitter(service: StoreService) -> Callable[[bytes], object]:
        return lambda data: service.submit(data, Format.JSON, caller=CALLER, now=now)

    sides: dict[str, Callable[[bytes], object]] = {"parse": Bundle.model_validate_json}
    sides.update({name: submitter(service) for name, service in services.items()})
    try:
        for name, service in services.items():
            answer = service.submit(fill(template, 0), Format.JSON, caller=CALLER, now=now)
            print(f"  check {name}: ClaimResponse outcomes {_outcomes(answer.resource)}")
        timings: dict[str, list[float]] = {name: [] for name in sides}
        warm = max(20, runs // 10)
        for n in range(1, warm + runs + 1):
            data = fill(template, n)
            for name, side in sides.items():
                start = time.perf_counter()
                side(data)
                elapsed = time.perf_counter() - start
                if n > warm:
                    timings[name].append(elapsed * 1000)
        return {name: statistics.median(values) for name, values in timings.items()}
    finally:
        for service in services.values():
            service.store.dispose()


def _scope(body: bytes, token: str) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", FHIR_JSON.encode()),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/Claim/$submit",
        "raw_path": b"/Claim/$submit",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }


async def _drive(app: Any, token: str, bodies: Sequence[bytes]) -> Counter[int]:
    """POST each body through the ASGI app, one at a time, as uvicorn would; count the statuses."""
    statuses: Counter[int] = Counter()
    for body in bodies:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive(messages: list[dict[str, Any]] = messages) -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] += 1

        await app(_scope(body, token), receive, send)
    return statuses


def profile(template: bytes, workdir: Path, count: int, top: int = 30) -> None:
    """cProfile ``count`` requests through the whole HTTP app on SQLite, worker threads included.

    The app is the one ``adapter serve`` builds (authentication, middleware, JSON log lines,
    metrics, the submit in the thread pool), driven through ASGI without a socket, so only
    uvicorn's HTTP parsing is left out. Each thread gets its own profiler; the stats are summed.
    """
    data_dir = workdir / "profile"
    settings = Settings(data_dir=data_dir, database_url=None, lpp_table=None, amc_contracts=None)
    token = mint_dev_token(
        data_dir,
        client_id="dev-client",
        scopes=["system/Claim.write"],
        now=datetime.now(UTC),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    bodies = [fill(template, n) for n in range(count + 20)]
    service = build_service(settings)
    profiles: list[cProfile.Profile] = []

    def per_thread(*_: object) -> None:
        thread_profile = cProfile.Profile()
        profiles.append(thread_profile)
        thread_profile.enable()  # replaces this hook in the new thread

    with open(os.devnull, "w", encoding="utf-8") as sink:
        app = create_app(
            settings, service, authenticator_from_settings(settings), clock=utc_now, log_stream=sink
        )
        try:
            asyncio.run(_drive(app, token, bodies[:20]))  # warm-up, on threads of another loop
            main_profile = cProfile.Profile()
            profiles.append(main_profile)
            threading.setprofile(per_thread)
            main_profile.enable()
            statuses = asyncio.run(_drive(app, token, bodies[20:]))
            main_profile.disable()
        finally:
            threading.setprofile(None)
            service.store.dispose()
    stats = pstats.Stats(profiles[0], stream=sys.stdout)
    for other in profiles[1:]:
        stats.add(other)
    stats.strip_dirs()
    table: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    for key in [key for key in table if key[2] in _IDLE]:
        del table[key]  # threads waiting for work, the event loop waiting for the socket
    busy = sum(entry[2] for entry in table.values())
    print(f"\nProfile of {count} POST /Claim/$submit through the app on SQLite (statuses {dict(statuses)})")
    print(f"busy time {busy / count * 1000:.2f} ms per request under cProfile, which inflates Python code")
    for label, filename, function in _BREAKDOWN:
        spent = sum(entry[3] for key, entry in table.items() if key[0] == filename and key[2] == function)
        print(f"  {label:44} {spent / count * 1000:7.3f} ms {spent / busy:6.1%}")
    print("Functions by own time (idle waits removed):")
    stats.sort_stats("tottime").print_stats(top)


_IDLE = {
    "<method 'poll' of 'select.epoll' objects>",
    "<method 'acquire' of '_thread.lock' objects>",
}
# (label, file, function): cumulative time of the steps of a request; indented rows are inside the row above.
_BREAKDOWN = [
    ("authentication (dev JWT, ES256 verify)", "authenticator.py", "authenticate"),
    ("StoreService.submit", "claims.py", "submit"),
    ("  intake: read_submission", "pipeline.py", "read_submission"),
    ("    fhir.resources model validation", "_fhir.py", "structure_issues"),
    ("  SubmitFlow.adjudicate (payers and the answer)", "flow.py", "adjudicate"),
    ("    to_claim_responses", "claimresponse.py", "to_claim_responses"),
    ("  content_hash (canonical JSON, SHA-256)", "claims.py", "content_hash"),
    ("  jsonio.dumps (content hash and answer)", "jsonio.py", "dumps"),
    ("  to_jsonable (stored request and decisions)", "jsonable.py", "to_jsonable"),
    ("  statements sent (StatementQueue.send)", "prepared.py", "send"),
    ("    Tx.insert_submission", "tx.py", "insert_submission"),
    ("  SQLite COMMIT (WAL written, no flush)", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("  WAL flush (fsync, after the writer's turn)", "writelock.py", "sync"),
    ("access log line (structlog)", "_base.py", "_proxy_to_logger"),
]


# -- part 2: over HTTP -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One running server and what to POST to it."""

    name: str
    url: str
    authorization: str | None
    pid: int | None = None  # the server's main process, for its CPU time


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process and its children (the uvicorn workers), from
    /proc; None where there is no /proc (the report then leaves the column out)."""
    if pid is None:
        return None
    total, pending, seen = 0.0, [pid], set()
    try:
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            stat = Path(f"/proc/{current}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
    except (OSError, ValueError, IndexError):
        return None
    return total


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _child_env(**values: str) -> dict[str, str]:
    """This environment without any ADAPTER_* setting, plus ``values``: every server starts alike."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADAPTER_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env.update(values)
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's own process group (uvicorn and its workers); SIGKILL what is left."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # a worker still running after uvicorn's shutdown
    except ProcessLookupError:
        return
    process.wait(timeout=5)


def _request(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    parts = url.split("/", 3)
    host, port = parts[2].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, "/" + parts[3], body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@contextmanager
def serving(
    name: str, command: Sequence[str], env: dict[str, str], workdir: Path, probe: str
) -> Iterator[tuple[str, int]]:
    """Run a server on a free loopback port until the block ends; yields its base URL and pid.

    Ready means ``probe`` answers 200 and every worker logged uvicorn's startup line (or, should
    the log not say so, ``READY_GRACE`` seconds have passed since the first answer).
    """
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - this environment's own commands
            [*command, "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C reaches us, we stop it
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            answered: float | None = None
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{_tail(log_path)}")
                now = time.monotonic()
                if now > deadline:
                    raise RuntimeError(f"{name} not ready after {STARTUP_TIMEOUT:.0f} s:\n{_tail(log_path)}")
                try:
                    status, _ = _request(base + probe)
                except OSError:
                    status = 0
                if status == 200:
                    answered = answered or now
                    started = log_path.read_bytes().count(b"Application startup complete")
                    if started >= WORKERS or now - answered > READY_GRACE:
                        break
                time.sleep(0.2)
            yield base, process.pid
        finally:
            _stop(process)


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])


def _adapter() -> list[str]:
    """The ``adapter`` console script of this environment (or its module when not installed)."""
    script = Path(sys.executable).with_name("adapter")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "adapter.cli"]


def _dev_token(env: dict[str, str]) -> str:
    completed = subprocess.run(  # noqa: S603 - this environment's own command
        [*_adapter(), "dev-token"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.strip()


def start_adapter(stack: ExitStack, name: str, workdir: Path, database_url: str | None) -> Target:
    data_dir = workdir / name
    data_dir.mkdir()
    values = {"ADAPTER_DATA_DIR": str(data_dir)}
    if database_url:
        values["ADAPTER_DATABASE_URL"] = database_url
    env = _child_env(**values)
    token = _dev_token(env)  # before the server: its workers then find the development key made
    command = [*_adapter(), "serve"]
    base, pid = stack.enter_context(serving(name, command, env, workdir, "/readyz"))
    return Target(name=name, url=f"{base}/Claim/$submit", authorization=f"Bearer {token}", pid=pid)


def start_echo(stack: ExitStack, workdir: Path) -> Target:
    command = [sys.executable, "-m", "benchmarks.echo_app"]
    base, pid = stack.enter_context(serving("echo", command, _child_env(), workdir, "/ping"))
    return Target(name="echo", url=f"{base}/echo", authorization=None, pid=pid)


def check(target: Target, template: bytes) -> None:
    """One request before the load: 200, and for the adapter both legs adjudicated."""
    headers = {"Content-Type": FHIR_JSON}
    if target.authorization:
        headers["Authorization"] = target.authorization
    status, body = _request(target.url, "POST", fill(template, ROUND_SPACING - 1), headers)
    if status != 200:
        raise RuntimeError(f"{target.name}: the check request answered {status}: {body[:600]!r}")
    outcomes = _outcomes(jsonio.loads(body))
    print(f"  check {target.name}: 200, ClaimResponse outcomes {outcomes or '(echo)'}")
    if outcomes and set(outcomes) != {"complete"}:
        print(f"  warning: {target.name} did not pay the claim in full; the figures measure another path")


def load(
    targets: Sequence[Target],
    *,
    engine: str,
    template_path: Path,
    connections: int,
    duration: float,
    warmup: float,
    rounds: int,
    workdir: Path,
) -> dict[str, Result]:
    """Warm every target up, then load them in turn, ``rounds`` times; results merged per target."""

    def run(target: Target, seconds: float, first: int) -> Result:
        return run_load(
            engine,
            url=target.url,
            template=template_path,
            content_type=FHIR_JSON,
            authorization=target.authorization,
            connections=connections,
            duration=seconds,
            first=first,
            workdir=workdir,
        )

    for target in targets:
        warm = run(target, warmup, 0)
        print(f"  warm-up {target.name}: {warm.requests} requests, {warm.errors} errors")
    per_round = max(1.0, round(duration / rounds))
    results: dict[str, list[Result]] = {target.name: [] for target in targets}
    cpu: dict[str, float | None] = {target.name: 0.0 for target in targets}
    for number in range(1, rounds + 1):
        for target in targets:
            before = _cpu_seconds(target.pid)
            result = run(target, per_round, number * ROUND_SPACING)
            after = _cpu_seconds(target.pid)
            spent = cpu[target.name]
            cpu[target.name] = None if None in (before, after, spent) else spent + after - before  # type: ignore[operator]
            results[target.name].append(result)
            print(
                f"  round {number}/{rounds} {target.name}: {result.rps:.1f} req/s, "
                f"p99 {result.percentile(99):.1f} ms, {result.errors} errors"
            )
    merged = {name: merge(parts) for name, parts in results.items()}
    SERVER_CPU.clear()
    SERVER_CPU.update(cpu)
    return merged


SERVER_CPU: dict[str, float | None] = {}
"""CPU seconds each server spent during its measured rounds (filled by :func:`load`)."""


# -- report ------------------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report_pipeline(medians: dict[str, float]) -> None:
    parse = medians["parse"]
    print(f"\n{'in process (median ms)':34} {'ms':>8} {'× parse':>8}")
    print(f"{'bare Bundle.model_validate_json':34} {parse:8.3f} {1.0:8.2f}")
    for name, value in medians.items():
        if name != "parse":
            ratio = value / parse
            label = f"StoreService.submit, {name}"
            verdict = _met(ratio <= PIPELINE_TARGET)
            print(f"{label:34} {value:8.3f} {ratio:8.2f}  target ≤ {PIPELINE_TARGET:.0f}×: {verdict}")


def report_load(results: dict[str, Result], connections: int) -> None:
    print(f"\n$submit over HTTP, {connections} connections, {WORKERS} uvicorn workers per server")
    header = (
        f"{'target':20} {'engine':7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}"
        f" {'CPU ms/req':>10} {'CPU used':>8}"
    )
    print(header)
    for name, result in results.items():
        spent = SERVER_CPU.get(name)
        per_request = f"{spent / result.requests * 1000:10.2f}" if spent and result.requests else f"{'-':>10}"
        busy = f"{spent / result.seconds:8.0%}" if spent and result.seconds else f"{'-':>8}"
        print(
            f"{name:20} {result.engine:7} {result.rps:8.1f} {result.percentile(50):8.2f} "
            f"{result.percentile(99):8.2f} {result.requests:9d} {result.errors:7d} {per_request} {busy}"
        )
    echo = results.get("echo")
    for name, result in results.items():
        if name == "echo" or echo is None or not echo.rps:
            continue
        share = result.rps / echo.rps
        p99 = result.percentile(99)
        print(
            f"{name}: {share:.0%} of the echo throughput (target ≥ {THROUGHPUT_TARGET:.0%}: "
            f"{_met(share >= THROUGHPUT_TARGET)}); p99 {p99:.1f} ms (target < {P99_TARGET_MS:.0f} ms: "
            f"{_met(p99 < P99_TARGET_MS)})"
        )
    for name, result in results.items():
        if result.errors:
            print(f"{name}: {result.errors} errors, statuses {result.statuses}")
            for sample in result.samples:
                print(f"    {' '.join(sample.split())[:300]}")


# -- main ----------------------------------------------------------------------------------------------


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of load per target (15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per target (3)")
    parser.add_argument("--rounds", type=int, default=3, help="the duration is split into alternating rounds")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections (8)")
    parser.add_argument(
        "--backends",
        default=None,
        help="sqlite,postgresql (default: both; PostgreSQL skipped with a notice when unreachable)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ADAPTER_TEST_DATABASE_URL", DEFAULT_POSTGRES),
        help="administrative URL used to create and drop throwaway databases",
    )
    parser.add_argument("--runs", type=int, default=200, help="in-process runs per side (200)")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--skip-http", action="store_true", help="only the in-process part")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="also cProfile N requests through the app"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 8:
        parser.error("--rounds is between 1 and 8")
    chosen = (args.backends or "sqlite,postgresql").split(",")
    unknown = set(chosen) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backends {sorted(unknown)}: use sqlite,postgresql")
    args.chosen = chosen
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    engine = "-" if args.skip_http else engine_for(args.loadgen)
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; load generator: {engine}"
    )
    template = claim_template()
    try:
        with ExitStack() as stack:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="adapter-bench-")))
            template_path = workdir / "claim.json"
            template_path.write_bytes(template)
            inprocess = {}
            servers: dict[str, str | None] = {}
            if "sqlite" in args.chosen:
                inprocess["sqlite"] = f"sqlite:///{(workdir / 'inprocess.sqlite3').as_posix()}"
                servers["sqlite"] = None
            if "postgresql" in args.chosen:
                try:
                    postgres = Postgres(args.postgres_url)
                except Exception as exc:
                    if args.backends:
                        raise SystemExit(f"PostgreSQL unreachable at {args.postgres_url}: {exc}") from exc
                    print(f"PostgreSQL skipped: unreachable at {args.postgres_url} ({type(exc).__name__})")
                else:
                    stack.callback(postgres.close)
                    inprocess["postgresql"] = postgres.create()
                    servers["postgresql"] = postgres.create()
            print(f"\n1. in process, {args.runs} interleaved runs per side")
            report_pipeline(pipeline(template, inprocess, workdir, args.runs))
            if args.profile:
                profile(template, workdir, args.profile)
            if args.skip_http:
                return
            print(f"\n2. over HTTP, {args.duration:g} s per target in {args.rounds} rounds", end="")
            print(f" after a {args.warmup:g} s warm-up")
            targets = [start_echo(stack, workdir)]
            targets += [
                start_adapter(stack, f"adapter-{name}", workdir, url) for name, url in servers.items()
            ]
            for target in targets:
                check(target, template)
            results = load(
                targets,
                engine=engine,
                template_path=template_path,
                connections=args.connections,
                duration=args.duration,
                warmup=args.warmup,
                rounds=args.rounds,
                workdir=workdir,
            )
            report_load(results, args.connections)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, temporary databases and files removed", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
