"""Worker targets for the supervisor tests: module-level, so that a spawned process can import them."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from adapter.serving import STARTUP_FAILURE


def fail_at_startup(options: Mapping[str, Any], ready: Event) -> None:
    sys.exit(STARTUP_FAILURE)


def die_once_then_run(options: Mapping[str, Any], ready: Event) -> None:
    """Leave a file named after this process; the first worker exits at once, the others serve.

    "First" is decided by creating a marker beside the folder with O_EXCL: workers that start
    at the same moment could otherwise each count the other's file and none of them exit."""
    folder = Path(options["folder"])
    (folder / str(os.getpid())).touch()
    try:
        os.close(os.open(folder.with_name(f"{folder.name}.first"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        pass
    else:
        sys.exit(1)
    ready.set()
    while True:
        time.sleep(0.1)


def run_until_stopped(options: Mapping[str, Any], ready: Event) -> None:
    """Leave a file named after this process, after a short start, and serve until terminated."""
    time.sleep(0.3)
    (Path(options["folder"]) / str(os.getpid())).touch()
    ready.set()
    while True:
        time.sleep(0.1)


def only_the_first_two_start(options: Mapping[str, Any], ready: Event) -> None:
    """Leave a file named after this process; the third and later fail at startup."""
    folder = Path(options["folder"])
    (folder / str(os.getpid())).touch()
    if len(list(folder.iterdir())) > 2:
        sys.exit(STARTUP_FAILURE)
    ready.set()
    while True:
        time.sleep(0.1)
