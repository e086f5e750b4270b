"""Worker targets for the supervisor tests: module-level, so that a spawned process can import them."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapter.serving import STARTUP_FAILURE


def fail_at_startup(options: Mapping[str, Any]) -> None:
    sys.exit(STARTUP_FAILURE)


def die_once_then_run(options: Mapping[str, Any]) -> None:
    """Leave a file named after this process; the first worker exits at once, the others stay up."""
    folder = Path(options["folder"])
    (folder / str(os.getpid())).touch()
    if len(list(folder.iterdir())) == 1:
        sys.exit(1)
    while True:
        time.sleep(0.1)


def run_until_stopped(options: Mapping[str, Any]) -> None:
    """Leave a file named after this process and run until terminated."""
    (Path(options["folder"]) / str(os.getpid())).touch()
    while True:
        time.sleep(0.1)
