"""Intake benchmark: read + validate + map a submission, against fhir.resources' bare parse.

Run with ``make bench`` (or ``python -m benchmarks.intake [--runs N]``). Every measurement
interleaves the two sides run by run, so that noise on a shared machine hits both alike, and
reports medians. Targets (issue "Foundation"): JSON path ≤ 1.3× the bare JSON parse; XML path
≤ 2× the JSON path. This is a measurement, not a test: it never fails a build.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle

from adapter.intake import Format, read_submission
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml
from tests.support.requests import sample_bundle

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "valid"


def _pair(first: Callable[[], object], second: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(max(20, runs // 10)):
        first()
        second()
    a: list[float] = []
    b: list[float] = []
    gc.disable()
    try:
        for _ in range(runs):
            start = time.perf_counter()
            first()
            middle = time.perf_counter()
            second()
            end = time.perf_counter()
            a.append(middle - start)
            b.append(end - middle)
    finally:
        gc.enable()
    return statistics.median(a) * 1000, statistics.median(b) * 1000


def _bundles() -> list[tuple[str, bytes]]:
    found = sorted(FIXTURES.glob("*.json")) if FIXTURES.is_dir() else []
    chosen = [(path.name, path.read_bytes()) for path in found if not path.name.endswith(".meta.json")]
    return chosen or [("sample (two lines)", jsonio.dumps(sample_bundle()))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=400)
    args = parser.parse_args()
    print(f"{'bundle':40} {'bytes':>6} {'bare':>7} {'json':>7} {'×':>5} {'xml':>7} {'xml/json':>8}")
    ratios_json: list[float] = []
    ratios_xml: list[float] = []
    for name, data in _bundles():
        xml = dump_xml(jsonio.loads(data))
        bare, ours = _pair(
            lambda d=data: Bundle.model_validate_json(d),
            lambda d=data: read_submission(d, Format.JSON),
            args.runs,
        )
        ours_json, ours_xml = _pair(
            lambda d=data: read_submission(d, Format.JSON),
            lambda x=xml: read_submission(x, Format.XML),
            args.runs,
        )
        ratios_json.append(ours / bare)
        ratios_xml.append(ours_xml / ours_json)
        print(
            f"{name[:40]:40} {len(data):>6} {bare:7.3f} {ours:7.3f} {ours / bare:5.2f} {ours_xml:7.3f} "
            f"{ours_xml / ours_json:8.2f}"
        )
    print(f"median ratio JSON pipeline / bare parse: {statistics.median(ratios_json):.2f} (target ≤ 1.30)")
    print(f"median ratio XML pipeline / JSON pipeline: {statistics.median(ratios_xml):.2f} (target ≤ 2.00)")


if __name__ == "__main__":
    main()
