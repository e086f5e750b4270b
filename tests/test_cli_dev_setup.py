"""Starting out: ``adapter serve`` and ``adapter dev-token`` agree on the development key from
any directory and print where it is; the steps ``serve`` prints are the README's; a busy port
is one line whatever the number of workers; ``reset-store`` empties only the default SQLite
file unless told otherwise."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from adapter.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, app, next_steps

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("adapter")
KEY_LINE = re.compile(r"signed by the (?:development )?key (\S+)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(tmp_path: Path) -> dict[str, str]:
    """No ADAPTER_ variable: the embedded default, under a throwaway XDG state directory."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ADAPTER_")}
    return {**environment, "XDG_STATE_HOME": str(tmp_path / "state"), "ADAPTER_LOG_LEVEL": "WARNING"}


def test_the_readme_shows_the_steps_serve_prints() -> None:
    """`make run` (adapter serve on 127.0.0.1:8080) prints the README's next steps exactly."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("Then, in a second terminal", 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    assert block == next_steps("127.0.0.1", 8080)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "HOST   ?= 127.0.0.1" in makefile
    assert "PORT   ?= 8080" in makefile


def test_serve_and_dev_token_agree_on_the_key_from_any_directory(tmp_path: Path) -> None:
    """serve started in one directory, dev-token run in another: the same key path printed, and
    the token is accepted by the service."""
    environment = _environment(tmp_path)
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    port = _free_port()
    command = [str(SCRIPT), "serve", "--port", str(port)]
    with subprocess.Popen(
        command, cwd=here, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as server:
        try:
            assert server.stderr is not None
            steps = len(next_steps("127.0.0.1", port).splitlines())
            banner = [server.stderr.readline().decode() for _ in range(1 + steps)]
            token_run = subprocess.run(
                [str(SCRIPT), "dev-token"],
                cwd=there,
                env=environment,
                capture_output=True,
                timeout=60,
                check=True,
            )
            token = token_run.stdout.decode().strip()
            deadline = time.monotonic() + 60
            while True:
                try:
                    answer = httpx.get(
                        f"http://127.0.0.1:{port}/ClaimResponse", headers={"Authorization": f"Bearer {token}"}
                    )
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the service did not start"
                    time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=30)

    served_key = KEY_LINE.search(banner[0])
    minted_key = KEY_LINE.search(token_run.stderr.decode())
    assert served_key is not None
    assert minted_key is not None
    assert served_key.group(1) == minted_key.group(1)
    assert Path(served_key.group(1)) == tmp_path / "state" / "fhir-lpp-adapter" / "dev-signing-key.pem"
    assert "".join(banner[1:]).rstrip("\n") == next_steps("127.0.0.1", port)
    assert answer.status_code == 200


@pytest.mark.parametrize("workers", [1, 2])
def test_a_busy_port_is_one_line_whatever_the_workers(tmp_path: Path, workers: int) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(SCRIPT), "serve", "--port", str(port), "--workers", str(workers)],
            env=_environment(tmp_path),
            capture_output=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == EXIT_USAGE
    assert done.stdout == b""
    assert done.stderr.decode() == f"adapter serve: error: 127.0.0.1:{port} is already in use\n"


def _store_files(folder: Path, name: str = "adapter.sqlite3") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / name, folder / f"{name}-wal"]
    for path in files:
        path.write_bytes(b"x")
    return files


def test_reset_store_removes_the_default_sqlite_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADAPTER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ADAPTER_DATABASE_URL", raising=False)
    files = _store_files(tmp_path)
    key = tmp_path / "dev-signing-key.pem"
    key.write_bytes(b"key")

    first = CliRunner().invoke(app, ["reset-store"])
    again = CliRunner().invoke(app, ["reset-store"])

    assert first.exit_code == EXIT_OK
    assert f"removed {files[0]}, {files[1]}" in first.stdout
    assert not any(path.exists() for path in files)
    assert key.exists()
    assert again.exit_code == EXIT_OK
    assert "already empty" in again.stdout


def test_reset_store_empties_another_sqlite_file_only_when_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "elsewhere"
    files = _store_files(other, "other.sqlite3")
    url = f"sqlite:///{files[0]}"
    monkeypatch.setenv("ADAPTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADAPTER_DATABASE_URL", url)

    unnamed = CliRunner().invoke(app, ["reset-store"])
    wrong = CliRunner().invoke(
        app, ["reset-store", "--database-url", f"sqlite:///{tmp_path}/adapter.sqlite3"]
    )
    assert (unnamed.exit_code, wrong.exit_code) == (EXIT_REFUSED, EXIT_REFUSED)
    assert all(path.exists() for path in files)

    named = CliRunner().invoke(app, ["reset-store", "--database-url", url])
    assert named.exit_code == EXIT_OK
    assert not any(path.exists() for path in files)


def test_reset_store_never_touches_a_server_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://adapter@127.0.0.1:5432/adapter"
    monkeypatch.setenv("ADAPTER_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["reset-store", "--database-url", url])
    assert result.exit_code == EXIT_REFUSED
    assert "never touches a server database" in result.stderr
