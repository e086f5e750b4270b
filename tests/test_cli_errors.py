"""Every command, given bad paths, bad flags or unreadable files, answers one line on stderr and
the documented exit code (0 ok, 1 refused or failed, 2 usage or unreadable), never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapter.cli import EXIT_REFUSED, EXIT_USAGE, app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VALID = FIXTURES / "valid" / "01-purchase-standard.json"
COMMANDS = ["validate", "submit", "map", "convert", "serve", "dev-token", "reset-store", "conformance"]
FILE_COMMANDS = ["validate", "submit", "map", "convert"]


def _one_line_error(result: object, code: int) -> str:
    """The single stderr line of a failed run (asserting there is exactly one, and no traceback)."""
    exit_code, stdout, stderr = result.exit_code, result.stdout, result.stderr  # type: ignore[attr-defined]
    assert exit_code == code, (exit_code, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert ": error: " in lines[0]
    return str(lines[0])


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ADAPTER_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("ADAPTER_DATABASE_URL", raising=False)
    return CliRunner()


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_flag_is_a_one_line_usage_error(runner: CliRunner, command: str) -> None:
    line = _one_line_error(runner.invoke(app, [command, "--no-such-flag", str(VALID)]), EXIT_USAGE)
    assert f"adapter {command}: error: No such option: --no-such-flag" in line
    assert f"'adapter {command} --help'" in line


@pytest.mark.parametrize("command", FILE_COMMANDS)
@pytest.mark.parametrize("kind", ["missing", "dangling-link", "empty-directory"])
def test_a_path_that_cannot_be_read_is_a_one_line_usage_error(
    runner: CliRunner, tmp_path: Path, command: str, kind: str
) -> None:
    path = tmp_path / "input.json"
    paths = [str(VALID), str(path)]
    if kind == "dangling-link":
        path.symlink_to(tmp_path / "gone.json")
    elif kind == "empty-directory":
        path = tmp_path / "empty"
        path.mkdir()
        paths = [str(path)]
    out = tmp_path / "out"
    out.mkdir()
    options = ["--to", "xml", "-o", str(out)] if command == "convert" else []
    result = runner.invoke(app, [command, *options, *paths])
    line = _one_line_error(result, EXIT_USAGE)
    assert result.stdout == ""  # nothing done before the bad path was found
    assert list(out.iterdir()) == []
    if kind == "empty-directory":
        assert "no JSON or XML file among the paths given" in line
    else:
        assert f"cannot read {path}: No such file or directory" in line


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["validate", "--format", "yaml", str(VALID)], "'yaml' is not one of text, json"),
        (["submit", "--format", "yaml", str(VALID)], "'yaml' is not one of json, xml"),
        (["convert", "--to", "yaml", str(VALID)], "'yaml' is not one of json, xml"),
        (["convert", str(VALID)], "Missing option '--to'"),
        (["submit", "--now", "yesterday", str(VALID)], "--now 'yesterday' is not an ISO 8601 date-time"),
        (["submit", "--now", "2026-12-15T11:00:00", str(VALID)], "--now needs a UTC offset"),
        (["serve", "--port", "70000"], "--port"),
        (["serve", "--workers", "0"], "--workers"),
        (["dev-token", "--lifetime", "5"], "--lifetime"),
        (["conformance", "--timeout", "soon"], "--timeout"),
        (["validate"], "Missing argument 'PATH…'"),
        (["nonsense"], "No such command 'nonsense'"),
    ],
)
def test_bad_flags_are_one_line_usage_errors(runner: CliRunner, arguments: list[str], message: str) -> None:
    assert message in _one_line_error(runner.invoke(app, arguments), EXIT_USAGE)


def test_convert_into_a_missing_directory_is_refused_up_front(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "dir" / "x.xml"
    line = _one_line_error(runner.invoke(app, ["convert", str(VALID), "--to", "xml", "-o", str(target)]), 2)
    assert f"-o {target}: no such directory" in line
    assert not target.parent.exists()


def test_convert_into_a_directory_writes_the_file_there(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(VALID), "--to", "xml", "-o", f"{tmp_path}/"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "01-purchase-standard.xml").read_bytes().startswith(b"<?xml")


def test_convert_of_several_files_needs_a_directory(runner: CliRunner) -> None:
    line = _one_line_error(runner.invoke(app, ["convert", str(FIXTURES / "valid"), "--to", "xml"]), 2)
    assert "give -o DIR" in line


def test_convert_never_overwrites_its_input(runner: CliRunner, tmp_path: Path) -> None:
    copy = tmp_path / "bundle.json"
    copy.write_bytes(VALID.read_bytes())
    line = _one_line_error(runner.invoke(app, ["convert", str(copy), "--to", "json", "-o", str(tmp_path)]), 2)
    assert "would overwrite it" in line
    assert copy.read_bytes() == VALID.read_bytes()


@pytest.mark.parametrize("option", ["--report", "--junit", "--html"])
def test_conformance_refuses_a_report_in_a_missing_directory_before_running(
    runner: CliRunner, tmp_path: Path, option: str
) -> None:
    target = tmp_path / "missing" / "r.out"
    result = runner.invoke(app, ["conformance", "--in-process", option, str(target)])
    assert f"{option} {target}: no such directory" in _one_line_error(result, EXIT_USAGE)
    assert result.stdout == ""  # no verdict printed before the refusal


def test_conformance_on_a_directory_that_is_no_kit(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["conformance", "--in-process", "--fixtures", str(tmp_path)])
    assert "holds no valid/ and invalid/" in _one_line_error(result, EXIT_USAGE)


def test_reset_store_refuses_a_database_it_was_not_told_about(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADAPTER_DATABASE_URL", "postgresql://adapter@db.example:5432/production")
    line = _one_line_error(runner.invoke(app, ["reset-store"]), EXIT_REFUSED)
    assert "reset-store only empties the default SQLite file" in line


def test_the_installed_script_prints_no_traceback(tmp_path: Path) -> None:
    """The console script itself (not the test runner) on two of the reported cases."""
    script = Path(sys.executable).with_name("adapter")
    for arguments in (
        ["convert", str(VALID), "--to", "xml", "-o", str(tmp_path / "missing" / "x.xml")],
        ["conformance", "--in-process", "--report", str(tmp_path / "missing" / "r.json")],
    ):
        done = subprocess.run([str(script), *arguments], capture_output=True, check=False, timeout=60)
        assert done.returncode == EXIT_USAGE
        assert done.stdout == b""
        assert len(done.stderr.decode().splitlines()) == 1, done.stderr.decode()


def test_dev_token_with_an_unusable_key_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    """A failure the adapter words itself (here: a key others may read) is its message alone."""
    assert runner.invoke(app, ["dev-token"]).exit_code == 0
    key = tmp_path / "state" / "dev-signing-key.pem"
    key.chmod(0o644)
    line = _one_line_error(runner.invoke(app, ["dev-token"]), EXIT_REFUSED)
    assert (
        line
        == f"adapter dev-token: error: {key}: the development key is readable by other users; chmod 600 it"
    )
