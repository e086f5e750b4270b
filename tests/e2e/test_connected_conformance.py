"""The conformance kit passes against a connected deployment: every fixture answered through
two ``adapter payer-sim`` processes over the payer protocol gives what the kit expects (the
simulators apply the same rules, with records of their own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.test_connected_crash import _free_port, _wait_up

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = [sys.executable, "-m", "adapter.cli"]


def _amc_numbers() -> list[str]:
    numbers = set()
    for path in (ROOT / "fixtures" / "valid").glob("*.json"):
        if ".meta." in path.name:
            continue
        for entry in json.loads(path.read_text("utf-8"))["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "Organization":
                numbers.update(
                    i["value"] for i in resource.get("identifier", []) if i["system"].endswith("/amc")
                )
    return sorted(numbers)


def test_the_kit_passes_with_remote_payers(tmp_path: Path) -> None:
    ports = {"amo": _free_port(), "amc": _free_port()}
    env = {**os.environ, "ADAPTER_DATA_DIR": str(tmp_path / "data"), "ADAPTER_LOG_LEVEL": "WARNING"}
    sims = []
    try:
        for role, port in ports.items():
            with (tmp_path / f"{role}.log").open("ab") as log:
                sim = subprocess.Popen(
                    [
                        *ADAPTER,
                        "payer-sim",
                        "--role",
                        role,
                        "--port",
                        str(port),
                        "--data-dir",
                        str(tmp_path / role),
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            sims.append(sim)
            _wait_up(f"http://127.0.0.1:{port}/_health", sim)
        routes = tmp_path / "routes.yaml"
        routes.write_text(
            f'amo: [{{organismes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], '
            f'url: "http://127.0.0.1:{ports["amo"]}"}}]\n'
            f'amc: [{{amc_numbers: {json.dumps(_amc_numbers())}, url: "http://127.0.0.1:{ports["amc"]}"}}]\n',
            encoding="utf-8",
        )
        run = subprocess.run(
            [*ADAPTER, "conformance", "--in-process", "--fixtures", str(ROOT / "fixtures")],
            # a generous budget: the kit expects final answers, and a loaded machine may be slow;
            # no embedded worker: it could take a claim's pending event before the request does
            # and leave the request a (correct, but here unexpected) queued answer
            env={
                **env,
                "ADAPTER_PAYER_ROUTES": str(routes),
                "ADAPTER_PAYER_BUDGET": "30",
                "ADAPTER_WORKER_EMBEDDED": "false",
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
        assert ", 0 failed" in run.stdout
        for port in ports.values():
            stats = httpx.get(f"http://127.0.0.1:{port}/_stats", timeout=10).json()
            assert stats["decisions"] > 0
            assert {entry["decided"] for entry in stats["keys"].values()} == {1}
    finally:
        for sim in sims:
            sim.terminate()
            sim.wait(timeout=30)
