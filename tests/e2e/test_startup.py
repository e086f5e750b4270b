"""Starting without a database (issue #15, item 13): one line naming the database, never its
password, no traceback, and the same exit status (3) with one worker or several."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_server import ROOT, _free_port

UNREACHABLE = "postgresql://adapter:s3cret-pw@127.0.0.1:{port}/adapter"


@pytest.mark.parametrize("workers", [1, 2])
def test_an_unreachable_database_stops_the_start_with_one_line(tmp_path: Path, workers: int) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADAPTER_")}
    env |= {
        "ADAPTER_DATA_DIR": str(tmp_path / "var"),
        "ADAPTER_DATABASE_URL": UNREACHABLE.format(port=_free_port()),
        "ADAPTER_AUTH": "disabled",
    }
    command = [
        sys.executable,
        "-m",
        "adapter.cli",
        "serve",
        "--port",
        str(_free_port()),
        "--workers",
        str(workers),
    ]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=60)
    output = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 3, output
    assert "Traceback" not in output
    assert "s3cret-pw" not in output
    failures = [line for line in output.splitlines() if '"startup.failed"' in line]
    assert 1 <= len(failures) <= workers  # one line per worker that tried, naming the database
    assert all("127.0.0.1" in line and "unavailable" in line for line in failures)
    assert "store.down" not in output  # the start's failure is that one line, not a change of state
