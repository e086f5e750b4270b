"""Directories and several files: what the commands take, the order, and results that name
their file; the progress bar and summary of a long run on a terminal only."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from adapter.cli import EXIT_OK, EXIT_REFUSED, app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VALID_DIR, INVALID_DIR = FIXTURES / "valid", FIXTURES / "invalid"
SIDECARS = (".meta.json", ".expected.json")
NOW = "2026-12-15T11:00:00+00:00"
runner = CliRunner()


def _bundles(folder: Path, suffixes: tuple[str, ...] = (".json", ".xml")) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in suffixes and not p.name.endswith(SIDECARS))


def test_validate_takes_the_kit_directory_without_its_sidecars() -> None:
    """``validate fixtures/``: one verdict per input of every folder (the cancellations' claims and
    Parameters, eligibility questions and lone prescriptions too), in path order; exit 1 since the
    invalid folder is in it."""
    result = runner.invoke(app, ["validate", str(FIXTURES)])
    verdicts = [line for line in result.stdout.splitlines() if not line.startswith("  ")]

    assert result.exit_code == EXIT_REFUSED
    folders = ("cancel", "eligibility", "invalid", "prescriptions", "valid")
    assert [line.split(": ", 1)[0] for line in verdicts] == list(
        map(str, [path for folder in folders for path in _bundles(FIXTURES / folder)])
    )
    assert all(line.endswith(": valid") for line in verdicts if "/eligibility/0" in line)
    assert not any(".meta." in line or ".expected." in line for line in verdicts)
    assert all(line.endswith(": valid") for line in verdicts if "/valid/" in line)


def test_validate_json_lines_name_their_file() -> None:
    result = runner.invoke(app, ["validate", "--format", "json", str(VALID_DIR)])
    lines = [json.loads(line) for line in result.stdout.splitlines()]

    assert result.exit_code == EXIT_OK
    assert [line["file"] for line in lines] == list(map(str, _bundles(VALID_DIR)))
    assert {line["status"] for line in lines} == {200}
    assert {line["resource"]["resourceType"] for line in lines} == {"OperationOutcome"}


def _meta(bundle: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(bundle.with_name(f"{bundle.stem}.meta.json").read_text())
    return loaded


def test_submit_of_a_shell_glob_skips_the_sidecars_and_meets_every_outcome() -> None:
    """``adapter submit fixtures/valid/*.json``: the glob also matches the ``.meta.json`` files;
    they are skipped, and every scenario gets the outcome its meta gives (the kit's numbering
    puts each scenario after those its ``preceded-by`` names)."""
    glob = sorted(VALID_DIR.glob("*.json"))
    assert any(p.name.endswith(".meta.json") for p in glob)
    result = runner.invoke(app, ["submit", "--now", NOW, *map(str, glob)])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    bundles = _bundles(VALID_DIR, (".json",))

    assert result.exit_code == EXIT_OK, result.stderr
    assert [line["file"] for line in lines] == list(map(str, bundles))
    for line, bundle in zip(lines, bundles, strict=True):
        responses = [
            e["resource"]
            for e in line["resource"]["entry"]
            if e["resource"]["resourceType"] == "ClaimResponse"
        ]
        meta = _meta(bundle)
        expected = [meta["outcome"], meta.get("amc-outcome", meta["outcome"])][: len(responses)]
        assert [r["outcome"] for r in responses] == expected, bundle.name


def test_submit_of_a_directory_skips_xml_twins() -> None:
    """A directory gives each submission once: an XML twin beside its JSON file is left out
    (adjudicated again, its deliveries would be duplicates)."""
    result = runner.invoke(app, ["submit", "--now", NOW, str(VALID_DIR)])
    files = [json.loads(line)["file"] for line in result.stdout.splitlines()]

    assert result.exit_code == EXIT_OK
    assert files == list(map(str, _bundles(VALID_DIR, (".json",))))


def test_submit_names_a_refused_file() -> None:
    bad = INVALID_DIR / "24-nir-key.json"
    result = runner.invoke(
        app, ["submit", "--now", NOW, str(VALID_DIR / "01-purchase-standard.json"), str(bad)]
    )
    refused = json.loads(result.stdout.splitlines()[1])

    assert result.exit_code == EXIT_REFUSED
    assert (refused["file"], refused["status"]) == (str(bad), 422)
    assert refused["resource"]["resourceType"] == "OperationOutcome"


def test_map_of_several_files_names_each_and_reports_a_refusal_like_validate() -> None:
    good, bad = VALID_DIR / "01-purchase-standard.json", INVALID_DIR / "24-nir-key.json"
    result = runner.invoke(app, ["map", str(good), str(bad)])
    (line,) = [json.loads(line) for line in result.stdout.splitlines()]

    assert result.exit_code == EXIT_REFUSED
    assert (line["file"], line["status"], line["request"]["use"]) == (str(good), 200, "claim")
    assert result.stderr.splitlines()[0] == f"{bad}: invalid (422)"
    assert "[nir-key] at Bundle.entry[1].resource.identifier[0].value" in result.stderr


def test_convert_names_a_refused_file_like_validate(tmp_path: Path) -> None:
    bad = INVALID_DIR / "09-element-unknown.json"
    result = runner.invoke(app, ["convert", str(bad), "--to", "xml"])

    assert result.exit_code == EXIT_REFUSED
    assert result.stderr.splitlines()[0] == f"{bad}: invalid (400)"


def test_convert_of_a_directory_writes_every_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(VALID_DIR), "--to", "xml", "-o", str(tmp_path)])
    names = {f"{p.stem}.xml" for p in _bundles(VALID_DIR)}

    assert result.exit_code == EXIT_OK, result.stderr
    assert {p.name for p in tmp_path.iterdir()} == names


def _run_on_a_terminal(arguments: list[str]) -> tuple[int, str, str]:
    """The console script with stderr on a pseudo-terminal and stdout piped."""
    script = Path(sys.executable).with_name("adapter")
    main, secondary = pty.openpty()
    environment = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    with subprocess.Popen(
        [str(script), *arguments], stdout=subprocess.PIPE, stderr=secondary, env=environment
    ) as process:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal's other end closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = process.stdout.read().decode() if process.stdout else ""
        code = process.wait(timeout=60)
    os.close(main)
    return code, stdout, b"".join(chunks).decode("utf-8", "replace")


def test_a_long_run_shows_a_summary_table_on_a_terminal_and_nothing_when_piped() -> None:
    code, stdout, terminal = _run_on_a_terminal(["validate", str(VALID_DIR)])
    assert code == EXIT_OK
    assert len(stdout.splitlines()) == len(_bundles(VALID_DIR))
    assert "validating" in terminal  # the progress bar, drawn then cleared
    assert "━" in terminal
    header = next(line for line in terminal.splitlines() if "valid" in line and "time" in line)
    assert "invalid" in header
    row = terminal.splitlines()[terminal.splitlines().index(header) + 2]
    assert f"{len(_bundles(VALID_DIR))}" in row
    assert " s " in row + " "

    piped = subprocess.run(
        [str(Path(sys.executable).with_name("adapter")), "validate", str(VALID_DIR)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert piped.returncode == EXIT_OK
    assert piped.stderr == b""
    assert piped.stdout.decode() == stdout


def test_submit_notes_a_scenario_given_without_the_ones_it_follows() -> None:
    """The kit's ``preceded-by``: 19 alone is adjudicated, with a note that 18 should come first."""
    second = VALID_DIR / "19-forfait-partly-used.json"
    alone = runner.invoke(app, ["submit", "--now", NOW, str(second)])
    both = runner.invoke(
        app, ["submit", "--now", NOW, str(VALID_DIR / "18-forfait-first-use.json"), str(second)]
    )

    assert alone.exit_code == both.exit_code == EXIT_OK
    assert alone.stderr == (
        f"note: {second}: its 19-forfait-partly-used.meta.json says to submit 18-forfait-first-use "
        "before it, in the same run (fixtures/README.md)\n"
    )
    assert both.stderr == ""
