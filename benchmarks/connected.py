"""Connected-mode benchmark: does a payer's latency cost throughput?

Run with ``python -m benchmarks.connected [--duration S] [--rounds N] [--connections C]``.
Two ``adapter payer-sim`` processes (AMO and AMC) and one ``adapter serve`` routed to them
(two workers, SQLite), and beside it one ``adapter serve`` on the in-process payers. Rounds
alternate, on the same machine in the same run: the connected set-up with the simulators
answering at once, the same with both answering after 50 ms (changed at run time through
their ``PUT /_faults``), and the in-process set-up. Each round is a closed loop of ``C``
keep-alive connections POSTing fresh claims (``benchmarks.loadgen``).

Targets (issue: connected payers): with 50 ms payers, throughput at 64 connections at least
80 % of the same set-up with payers answering at once, and p99 at most that p99 + 3 × 50 ms.
The in-process column shows what the extra hops cost. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmarks.loadgen import Result, engine_for, merge, run_load
from benchmarks.service import (
    FHIR_JSON,
    REPO,
    _adapter,
    _child_env,
    _free_port,
    _request,
    _stop,
    claim_template,
    serving,
)

LATENCY_MS = 50.0


@contextmanager
def payer_sim(role: str, workdir: Path) -> Iterator[str]:
    """An ``adapter payer-sim`` on a free port until the block ends; yields its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with (workdir / f"sim-{role}.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - this environment's own command
            [
                *_adapter(),
                "payer-sim",
                "--role",
                role,
                "--port",
                str(port),
                "--data-dir",
                str(workdir / role),
            ],
            cwd=REPO,
            env=_child_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if _request(f"{base}/_health")[0] == 200:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"payer-sim {role} did not start")
                time.sleep(0.1)
            yield base
        finally:
            _stop(process)


def _latency(sims: list[str], milliseconds: float) -> None:
    body = json.dumps({"latency_ms": milliseconds}).encode()
    for base in sims:
        status, answer = _request(f"{base}/_faults", "PUT", body, {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"{base} refused the faults: {answer[:200]!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of load per target and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args(argv)
    engine = engine_for(args.loadgen)
    with tempfile.TemporaryDirectory(prefix="bench-connected-") as scratch, ExitStack() as stack:
        workdir = Path(scratch)
        template = workdir / "claim.json"
        template.write_bytes(claim_template())
        amo = stack.enter_context(payer_sim("amo", workdir))
        amc = stack.enter_context(payer_sim("amc", workdir))
        routes = workdir / "routes.yaml"
        routes.write_text(
            f'amo: [{{organismes: ["0"], url: "{amo}"}}]\n'
            f'amc: [{{amc_numbers: ["75500001"], url: "{amc}"}}]\n'
            "timeouts: {connect: 2, read: 5}\n",
            encoding="utf-8",
        )
        common = {"ADAPTER_AUTH": "disabled", "ADAPTER_LOG_LEVEL": "WARNING"}
        connected, _ = stack.enter_context(
            serving(
                "connected",
                [*_adapter(), "serve"],
                _child_env(
                    **common, ADAPTER_DATA_DIR=str(workdir / "connected"), ADAPTER_PAYER_ROUTES=str(routes)
                ),
                workdir,
                "/readyz",
            )
        )
        local, _ = stack.enter_context(
            serving(
                "in-process",
                [*_adapter(), "serve"],
                _child_env(**common, ADAPTER_DATA_DIR=str(workdir / "in-process")),
                workdir,
                "/readyz",
            )
        )
        targets = {
            "connected, payers at once": (connected, 0.0),
            f"connected, payers after {LATENCY_MS:.0f} ms": (connected, LATENCY_MS),
            "in process": (local, None),
        }
        results: dict[str, list[Result]] = {name: [] for name in targets}
        first = 0
        for round_ in range(args.rounds):
            for name, (base, latency) in targets.items():
                if latency is not None:
                    _latency([amo, amc], latency)
                result = run_load(
                    engine,
                    url=f"{base}/Claim/$submit",
                    template=template,
                    content_type=FHIR_JSON,
                    authorization=None,
                    connections=args.connections,
                    duration=args.duration,
                    first=first,
                    workdir=workdir,
                )
                first += 1_000_000
                results[name].append(result)
                print(
                    f"  round {round_ + 1}/{args.rounds} {name}: {result.rps:.1f} req/s, "
                    f"p99 {result.percentile(99):.1f} ms, {result.errors} errors"
                )
        print(f"\n$submit, {args.connections} connections, 2 workers per server, {engine}, SQLite")
        merged = {name: merge(runs) for name, runs in results.items()}
        for name, result in merged.items():
            print(
                f"  {name:34} {result.rps:8.1f} req/s  p50 {result.percentile(50):7.1f} ms  "
                f"p99 {result.percentile(99):7.1f} ms  errors {result.errors}"
            )
        fast, slow = (
            merged["connected, payers at once"],
            merged[f"connected, payers after {LATENCY_MS:.0f} ms"],
        )
        ratio = slow.rps / fast.rps if fast.rps else 0.0
        budget = fast.percentile(99) + 3 * LATENCY_MS
        print(f"  throughput with {LATENCY_MS:.0f} ms payers: {ratio:.0%} of payers at once (target >= 80 %)")
        print(
            f"  p99 with {LATENCY_MS:.0f} ms payers: {slow.percentile(99):.1f} ms (target <= {budget:.1f} ms)"
        )
        local_ratio = fast.rps / merged["in process"].rps if merged["in process"].rps else 0.0
        print(f"  connected (payers at once) / in process: {local_ratio:.0%} of the throughput")


if __name__ == "__main__":
    main()
