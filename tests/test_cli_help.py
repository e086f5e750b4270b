"""Every command's --help reads like a tool's: placeholders rather than Python types, no raw
markup, a summary per command that is a whole sentence, and the exit codes."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from adapter.cli import app

COMMANDS = [
    "validate",
    "convert",
    "map",
    "eligibility",
    "submit",
    "serve",
    "dev-token",
    "reset-store",
    "conformance",
]
RAW = re.compile(r"``|<(?:list|bool|str|int|float|path|Path)[^>]*>|\{[a-z_]+\}|\[\w+\]\(")


def _help(*arguments: str) -> str:
    result = CliRunner().invoke(app, [*arguments, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_command_list_gives_every_command_a_whole_sentence() -> None:
    text = _help()
    listed = text.split("Commands:\n", 1)[1].splitlines()
    summaries = {line.split()[0]: line.split(None, 1)[1] for line in listed if line.startswith("  ")}

    assert set(COMMANDS) <= set(summaries)
    for command in COMMANDS:
        assert summaries[command].endswith("."), summaries[command]
        assert not summaries[command].endswith("..."), summaries[command]
    assert "Exit codes: 0 success, 1 refused or failed, 2 usage error" in " ".join(text.split())


@pytest.mark.parametrize("command", COMMANDS)
def test_each_help_uses_placeholders_and_no_raw_markup(command: str) -> None:
    text = _help(command)

    assert RAW.search(text) is None, RAW.search(text)
    assert text.startswith(f"Usage: adapter {command} [OPTIONS]")
    assert max(len(line) for line in text.splitlines()) <= 100
    if command in ("validate", "convert", "map", "eligibility", "submit"):
        assert text.splitlines()[0] == f"Usage: adapter {command} [OPTIONS] PATH…"
    assert "Exit 0 " in text


def test_options_name_their_values() -> None:
    assert "--format json|xml" in _help("submit")
    assert "--now TIME" in _help("submit")
    assert "-o, --output PATH" in _help("convert")
    assert "--html FILE" in _help("conformance")
    assert "--port PORT" in _help("serve")
