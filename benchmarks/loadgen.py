"""Closed-loop HTTP load on loopback: N keep-alive connections POST generated claims for S seconds.

Two engines give the same :class:`Result`: ``wrk`` driven by a Lua script when it is installed
(C, so the client takes little of the CPU the server needs), otherwise this module's asyncio
client, always run as ``python -m benchmarks.loadgen`` in a separate process so that its work
never lands in the caller's process. Each request is the template with ``@SEQ@`` replaced by a
fresh sequence number and ``@NIR@`` by a fresh synthetic NIR (valid key): the Bundle.identifier
never replays and no patient gathers a history that would slow every later adjudication.

Latency is kept as a sketch of 1000 quantiles (0.1 % steps, milliseconds) so that runs can be
merged; a non-200 answer counts as an error and its first bytes are kept for the report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "AUTHORIZATION_ENV",
    "NIR_MARK",
    "SEQ_MARK",
    "Result",
    "engine_for",
    "fill",
    "merge",
    "nir_for",
    "run_load",
]

SEQ_MARK = b"@SEQ@"
NIR_MARK = b"@NIR@"
AUTHORIZATION_ENV = "BENCH_AUTHORIZATION"
"""The Authorization header value reaches either engine through the environment, not argv."""

_STEPS = 1000
_PATIENTS = 999 * 999  # commune 001-999 × order 001-999
_SAMPLE_BYTES = 400
_MAX_SAMPLES = 5
_REQUEST_TIMEOUT = 30.0
_WRK_THREADS = 1  # one event loop drives hundreds of requests per second and leaves the CPU to the server
_REPO = Path(__file__).resolve().parent.parent


def nir_for(n: int) -> str:
    """A synthetic NIR (woman born 03/1984 in Paris) that differs for 998,001 consecutive ``n``."""
    n %= _PATIENTS
    body = f"2840375{1 + n % 999:03d}{1 + n // 999:03d}"
    return f"{body}{97 - int(body) % 97:02d}"


def fill(template: bytes, n: int) -> bytes:
    """Request number ``n``: a fresh Bundle.identifier and a fresh patient."""
    return template.replace(SEQ_MARK, str(n).encode()).replace(NIR_MARK, nir_for(n).encode())


@dataclass
class Result:
    """One load run, or several merged; latencies in milliseconds."""

    engine: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    quantiles: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile from the sketch (exact at 0.1 % steps for a single run)."""
        if not self.quantiles:
            return math.nan
        return self.quantiles[max(0, math.ceil(p / 100 * _STEPS) - 1)]


def _sketch(latencies: Sequence[float]) -> list[float]:
    ordered = sorted(latencies)
    if not ordered:
        return []
    count = len(ordered)
    return [ordered[max(0, math.ceil(step / _STEPS * count) - 1)] for step in range(1, _STEPS + 1)]


def merge(results: Sequence[Result]) -> Result:
    """Add runs up: counts and time summed, the latency sketch re-drawn from the weighted sketches."""
    statuses: Counter[str] = Counter()
    weighted: list[tuple[float, float]] = []
    for result in results:
        statuses.update(result.statuses)
        weight = result.requests / _STEPS
        weighted.extend((value, weight) for value in result.quantiles)
    weighted.sort()
    total = sum(weight for _, weight in weighted)
    quantiles: list[float] = []
    if total:
        cumulative, index = 0.0, 0
        for step in range(1, _STEPS + 1):
            rank = step / _STEPS * total
            while index < len(weighted) - 1 and cumulative + weighted[index][1] < rank - 1e-9:
                cumulative += weighted[index][1]
                index += 1
            quantiles.append(weighted[index][0])
    return Result(
        engine="+".join(sorted({result.engine for result in results})),
        requests=sum(result.requests for result in results),
        errors=sum(result.errors for result in results),
        seconds=sum(result.seconds for result in results),
        statuses=dict(statuses),
        samples=[sample for result in results for sample in result.samples][:_MAX_SAMPLES],
        quantiles=quantiles,
    )


def engine_for(preferred: str) -> str:
    """``wrk`` when asked for (or ``auto``) and installed, else ``python``; ``wrk`` missing is an error."""
    if preferred == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if preferred == "wrk":
        raise SystemExit("--loadgen wrk: wrk is not installed (apt-get install wrk)")
    return "python"


def run_load(
    engine: str,
    *,
    url: str,
    template: Path,
    content_type: str,
    authorization: str | None,
    connections: int,
    duration: float,
    first: int,
    workdir: Path,
) -> Result:
    """Run one load in a child process (killed if this one is interrupted) and read its result."""
    env = {**os.environ, AUTHORIZATION_ENV: authorization or ""}
    if engine == "wrk":
        script = workdir / "submit.lua"
        script.write_text(_WRK_SCRIPT, encoding="utf-8")
        command = [
            "wrk",
            "--threads",
            str(_WRK_THREADS),
            "--connections",
            str(connections),
            "--duration",
            f"{max(1, round(duration))}s",
            "--timeout",
            f"{int(_REQUEST_TIMEOUT)}s",
            "--script",
            str(script),
            url,
            "--",
            str(template),
            str(first),
            content_type,
            str(_WRK_THREADS),
        ]
    else:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
        command = [
            sys.executable,
            "-m",
            "benchmarks.loadgen",
            "--url",
            url,
            "--template",
            str(template),
            "--content-type",
            content_type,
            "--connections",
            str(connections),
            "--duration",
            str(duration),
            "--first",
            str(first),
        ]
    completed = subprocess.run(  # noqa: S603 - fixed argv: wrk or this interpreter
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=duration + 60,
        start_new_session=True,  # Ctrl-C reaches us only; run() kills the child on the way out
        check=False,
    )
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            return Result(**json.loads(line.removeprefix("BENCH-RESULT ")))
    raise RuntimeError(
        f"{engine} exited with {completed.returncode} without a result:\n{completed.stderr[-2000:]}"
    )


# -- the Python engine ------------------------------------------------------------------------


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    errors: int = 0
    last: float = 0.0

    def failure(self, what: str) -> None:
        self.errors += 1
        self.statuses[what] += 1
        if len(self.samples) < _MAX_SAMPLES:
            self.samples.append(what[:_SAMPLE_BYTES])


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the server keeps the connection open (HTTP/1.1)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunks.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(chunk[:-2] for chunk in chunks)
    else:
        body = b""
    return status, body, headers.get("connection", "").lower() != "close"


async def _connection(
    index: int,
    *,
    host: str,
    port: int,
    head: bytes,
    template: bytes,
    stride: int,
    first: int,
    deadline: float,
    tally: _Tally,
) -> None:
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    sequence = 0
    while time.perf_counter() < deadline:
        body = fill(template, first + index + sequence * stride)
        sequence += 1
        request = b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body)
        start = time.perf_counter()
        try:
            async with asyncio.timeout(_REQUEST_TIMEOUT):
                if streams is None:
                    streams = await asyncio.open_connection(host, port)
                reader, writer = streams
                writer.write(request)
                status, answer, keep = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
            tally.failure(f"socket: {type(exc).__name__}: {exc}")
            if streams is not None:
                streams[1].close()
            streams = None
            continue
        end = time.perf_counter()
        tally.latencies.append((end - start) * 1000)
        tally.last = max(tally.last, end)
        if status != 200:
            tally.errors += 1
            if len(tally.samples) < _MAX_SAMPLES:
                tally.samples.append(f"{status} {answer[:_SAMPLE_BYTES].decode('utf-8', 'replace')}")
        tally.statuses[str(status)] += 1
        if not keep:
            writer.close()
            streams = None
    if streams is not None:
        streams[1].close()


async def _load(
    url: str,
    template: bytes,
    content_type: str,
    authorization: str,
    connections: int,
    duration: float,
    first: int,
) -> Result:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        + (f"Authorization: {authorization}\r\n" if authorization else "")
    ).encode("latin-1")
    tally = _Tally()
    start = time.perf_counter()
    deadline = start + duration
    await asyncio.gather(
        *(
            _connection(
                index,
                host=host,
                port=port,
                head=head,
                template=template,
                stride=connections,
                first=first,
                deadline=deadline,
                tally=tally,
            )
            for index in range(connections)
        )
    )
    return Result(
        engine="python",
        requests=len(tally.latencies),
        errors=tally.errors,
        seconds=(tally.last or time.perf_counter()) - start,
        statuses=dict(tally.statuses),
        samples=tally.samples,
        quantiles=_sketch(tally.latencies),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the Python engine and print ``BENCH-RESULT {json}`` on standard output."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/path")
    parser.add_argument("--template", type=Path, required=True, help="body with @SEQ@ and @NIR@ marks")
    parser.add_argument("--content-type", default="application/fhir+json")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds")
    parser.add_argument("--first", type=int, default=0, help="sequence number of the first request")
    args = parser.parse_args(argv)
    run = _load(
        args.url,
        args.template.read_bytes(),
        args.content_type,
        os.environ.get(AUTHORIZATION_ENV, ""),
        args.connections,
        args.duration,
        args.first,
    )
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        result = asyncio.run(run)
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(run)
    print("BENCH-RESULT " + json.dumps(asdict(result)))


# -- the wrk engine ---------------------------------------------------------------------------
# Same request numbering and NIRs as fill()/nir_for() (wrk calls request() once before the run to
# check it, so its first number goes unused); thread counters are summed in done().
_WRK_SCRIPT = r"""
threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  template = file:read("*a")
  file:close()
  first = tonumber(args[2])
  stride = tonumber(args[4])
  sequence = 0
  bad = 0
  counts = {}
  samples = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = args[3]
  local authorization = os.getenv("BENCH_AUTHORIZATION")
  if authorization and authorization ~= "" then
    wrk.headers["Authorization"] = authorization
  end
end

local function nir(n)
  n = n % 998001
  local body = string.format("2840375%03d%03d", 1 + n % 999, 1 + math.floor(n / 999))
  return body .. string.format("%02d", 97 - tonumber(body) % 97)
end

function request()
  local n = first + (index or 0) + sequence * stride
  sequence = sequence + 1
  local body = template:gsub("@SEQ@", tostring(n)):gsub("@NIR@", nir(n))
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  counts[tostring(status)] = (counts[tostring(status)] or 0) + 1
  if status ~= 200 then
    bad = bad + 1
    if #samples < 5 then
      table.insert(samples, status .. " " .. string.sub(body or "", 1, 400))
    end
  end
end

local function quote(text)
  return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local bad_total, merged, kept = 0, {}, {}
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
    for status, count in pairs(thread:get("counts")) do
      merged[status] = (merged[status] or 0) + count
    end
    for _, sample in ipairs(thread:get("samples")) do
      if #kept < 5 then table.insert(kept, quote(sample)) end
    end
  end
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  if socket > 0 then
    merged["socket"] = socket
    if #kept < 5 then table.insert(kept, quote("socket errors: " .. socket)) end
  end
  local statuses = {}
  for status, count in pairs(merged) do
    table.insert(statuses, quote(status) .. ":" .. count)
  end
  local quantiles = {}
  if summary.requests > 0 then
    local previous = latency.min
    for step = 1, 1000 do
      -- percentile() answers 0 when its rank rounds past the last sample: that is the maximum
      local value = step == 1000 and latency.max or latency:percentile(step / 10)
      if value == 0 then value = latency.max end
      previous = math.max(previous, value)
      quantiles[step] = string.format("%.3f", previous / 1000)
    end
  end
  io.write("BENCH-RESULT {")
  io.write('"engine":"wrk",')
  io.write('"requests":', summary.requests, ",")
  io.write('"errors":', bad_total + socket, ",")
  io.write('"seconds":', summary.duration / 1e6, ",")
  io.write('"statuses":{', table.concat(statuses, ","), "},")
  io.write('"samples":[', table.concat(kept, ","), "],")
  io.write('"quantiles":[', table.concat(quantiles, ","), "]}\n")
end
"""


if __name__ == "__main__":
    main()
