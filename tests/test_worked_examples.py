"""The worked examples of domain-fr.md §3.4, adjudicated by the real ``adapter submit``.

Each example's ``.expected.meta.json`` holds the document's amounts (the oracle); the
command's printed ClaimResponse totals and taux must equal them to the cent. The same
command line also shows that several files share one history and ledger, and that every
valid fixture adjudicates as its meta says, so fixtures and demo data cannot drift apart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapter.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, app
from mappings.systems import ADJUDICATION, Canon
from tests.build_fixtures import EXPECTED_SUFFIX, FIXTURES

VALID = FIXTURES / "valid"
INVALID = FIXTURES / "invalid"
NOW = "2026-12-15T12:00:00+01:00"
PROJECT_ADJUDICATION = Canon().adjudication

EXPECTED = sorted(VALID.glob(f"*{EXPECTED_SUFFIX}"))
BUNDLES = sorted(
    path for path in VALID.iterdir() if path.suffix in (".json", ".xml") and ".meta." not in path.name
)

DOCUMENT_EXAMPLES = frozenset(
    {*(f"3.4 #{n}" for n in range(1, 27)), "3.4 #10b", "3.4 hospital rounding check"}
)
"""Every row of domain-fr.md §3.4 and its hospital rounding check."""


def _name(path: Path) -> str:
    return path.name.removesuffix(EXPECTED_SUFFIX) if path.name.endswith(EXPECTED_SUFFIX) else path.stem


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def _meta(name: str) -> dict[str, Any]:
    meta: dict[str, Any] = _load(VALID / f"{name}.meta.json")
    return meta


def _run_order(names: Iterable[str]) -> list[Path]:
    """Each scenario after the scenarios its meta says precede it, each file once."""
    order: dict[str, None] = {}
    for name in names:
        order.update(dict.fromkeys(_meta(name).get("preceded-by", [])))
        order[name] = None
    return [VALID / f"{name}.json" for name in order]


def _documents(stdout: str, count: int) -> list[dict[str, Any]]:
    if count == 1:
        return [json.loads(stdout, parse_float=Decimal)]
    lines = [json.loads(line, parse_float=Decimal) for line in stdout.splitlines()]
    assert len(lines) == count
    return [line["resource"] for line in lines]


def _submit(paths: list[Path]) -> tuple[int, list[dict[str, Any]]]:
    """``adapter submit PATHS --now NOW`` in-process: exit code and one document per file."""
    result = CliRunner().invoke(app, ["submit", *map(str, paths), "--now", NOW])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, _documents(result.stdout, len(paths))


def _claim_responses(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    assert bundle["resourceType"] == "Bundle"
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ClaimResponse"]


def _code(concept: Mapping[str, Any], systems: tuple[str, ...]) -> str:
    coding = concept["coding"][0]
    assert coding["system"] in systems
    code: str = coding["code"]
    return code


def _totals(response: Mapping[str, Any]) -> dict[str, Decimal]:
    systems = (ADJUDICATION, PROJECT_ADJUDICATION)
    totals: dict[str, Decimal] = {}
    for total in response["total"]:
        assert total["amount"]["currency"] == "EUR"
        totals[_code(total["category"], systems)] = total["amount"]["value"]
    return totals


def _rates(response: Mapping[str, Any]) -> list[Decimal]:
    """The eligpercent value of every item, in item order."""
    rates: list[Decimal] = []
    for item in response["item"]:
        found = [
            Decimal(str(a["value"]))
            for a in item["adjudication"]
            if _code(a["category"], (ADJUDICATION, PROJECT_ADJUDICATION)) == "eligpercent"
        ]
        assert len(found) <= 1  # none on a line the AMO refuses
        rates.extend(found)
    return rates


def _assert_matches(bundle: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """AMO totals and taux, then the AMC share, equal the document's to the cent."""
    responses = _claim_responses(bundle)
    amo, wanted = responses[0], expected["amo"]
    totals = _totals(amo)
    rate = Decimal(wanted["rate"])  # 0: a device off the LPP, which the AMO rates not at all
    for category in ("submitted", "eligible", "benefit", "ticket-moderateur", "depassement"):
        # a line the AMO refuses (a device off the LPP) has no ticket modérateur nor dépassement
        got = totals[category] if rate or category in totals else Decimal("0.00")
        assert got == Decimal(wanted[category]), (expected["example"], "AMO", category)
    assert set(_rates(amo)) == ({rate} if rate else set()), expected["example"]
    if expected["amc"] is None:
        assert len(responses) == 1, expected["example"]
        return
    assert len(responses) == 2, expected["example"]
    amc = _totals(responses[1])
    for category in ("benefit", "reste-a-charge"):
        assert amc[category] == Decimal(expected["amc"][category]), (expected["example"], "AMC", category)


def _errors(response: Mapping[str, Any]) -> list[str]:
    return [error["code"]["coding"][0]["code"] for error in response.get("error", [])]


# -- the oracle ----------------------------------------------------------------------------


def test_every_worked_example_of_the_document_has_one_oracle() -> None:
    """The expected files cover each §3.4 example exactly once, each beside its fixture."""
    examples = [_load(path)["example"] for path in EXPECTED]
    assert sorted(examples) == sorted(DOCUMENT_EXAMPLES)
    for path in EXPECTED:
        assert (VALID / f"{_name(path)}.json").exists()


@pytest.mark.parametrize("path", EXPECTED, ids=_name)
def test_expected_file_has_the_documented_shape(path: Path) -> None:
    """{example, amo: six amounts as 2-decimal text and an integer-like taux, amc: two or null}."""
    expected = _load(path)
    assert set(expected) == {"example", "amo", "amc"}
    amo = expected["amo"]
    assert set(amo) == {"submitted", "eligible", "rate", "benefit", "ticket-moderateur", "depassement"}
    amounts = [value for key, value in amo.items() if key != "rate"]
    if expected["amc"] is not None:
        assert set(expected["amc"]) == {"benefit", "reste-a-charge"}
        amounts += list(expected["amc"].values())
    for amount in amounts:
        assert isinstance(amount, str)
        assert Decimal(amount).as_tuple().exponent == -2, amount
    assert Decimal(amo["rate"]) in {Decimal(0), Decimal(60), Decimal(90), Decimal(100), Decimal(150)}


# -- each example through the command line ---------------------------------------------------


@pytest.mark.parametrize("path", EXPECTED, ids=_name)
def test_worked_example_gives_the_documented_amounts(path: Path) -> None:
    """The example (after the scenarios it needs, in one run) pays exactly what §3.4 says."""
    files = _run_order([_name(path)])
    code, documents = _submit(files)
    assert code == EXIT_OK
    _assert_matches(documents[-1], _load(path))


def test_console_script_reproduces_every_worked_example() -> None:
    """The installed ``adapter`` script, all examples in one invocation, matches every oracle."""
    script = Path(sys.executable).with_name("adapter")
    assert script.exists(), f"the console script is not installed beside {sys.executable}"
    files = _run_order(_name(path) for path in EXPECTED)
    done = subprocess.run(
        [str(script), "submit", *map(str, files), "--now", NOW],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == EXIT_OK, done.stderr.decode()
    answers = {
        bundle["identifier"]["value"]: bundle
        for bundle in _documents(done.stdout.decode("utf-8"), len(files))
    }
    for path in EXPECTED:
        submission = _load(VALID / f"{_name(path)}.json")["identifier"]["value"]
        _assert_matches(answers[submission], _load(path))


# -- several files in one run ------------------------------------------------------------------


def test_files_of_one_run_share_the_forfait_ledger() -> None:
    """Example 6 alone finds the whole forfait (AMC 90.00); after 6a has spent 70.00, 70.00."""
    first, second = VALID / "18-forfait-first-use.json", VALID / "19-forfait-partly-used.json"
    _, alone = _submit([second])
    code, both = _submit([first, second])
    assert code == EXIT_OK
    assert _totals(_claim_responses(alone[0])[1])["benefit"] == Decimal("90.00")
    assert _totals(_claim_responses(both[0])[1])["benefit"] == Decimal("110.00")
    assert _totals(_claim_responses(both[1])[1])["benefit"] == Decimal("70.00")


def test_files_of_one_run_share_the_delivery_history() -> None:
    """The same Bundle twice: the second time its delivery is a duplicate and is rejected."""
    path = VALID / "16-minimal-contract.json"
    code, (first, second) = _submit([path, path])
    assert code == EXIT_OK
    assert [r["outcome"] for r in _claim_responses(first)] == ["complete", "complete"]
    amo, amc = _claim_responses(second)
    assert amo["outcome"] == "error"
    assert _errors(amo) == ["duplicate-delivery"]
    assert _errors(amc) == ["amc-amo-rejected"]


def test_a_refused_file_exits_1_and_the_others_are_still_answered() -> None:
    """Valid, invalid, valid: exit 1, an OperationOutcome in second place between two answers."""
    files = [VALID / "01-purchase-standard.json", INVALID / "24-nir-key.json", VALID / "02-rental-bed.xml"]
    code, (first, refused, third) = _submit(files)
    assert code == EXIT_REFUSED
    assert refused["resourceType"] == "OperationOutcome"
    codes = [issue["details"]["coding"][0]["code"] for issue in refused["issue"]]
    assert codes == ["nir-key"]
    for answer, submission in ((first, "SUB-2026-000101"), (third, "SUB-2026-000214")):
        assert answer["identifier"]["value"] == submission
        assert [r["outcome"] for r in _claim_responses(answer)] == ["complete", "complete"]


def test_one_file_prints_an_indented_document_several_print_one_per_line() -> None:
    """A single answer keeps the indented layout; two answers are two compact JSON lines."""
    path = VALID / "01-purchase-standard.json"
    single = CliRunner().invoke(app, ["submit", str(path), "--now", NOW])
    assert single.stdout.startswith('{\n  "resourceType": "Bundle",\n')
    double = CliRunner().invoke(app, ["submit", str(path), str(VALID / "02-rental-bed.json"), "--now", NOW])
    lines = double.stdout.splitlines()
    assert len(lines) == 2
    assert all(line.startswith('{"file":') for line in lines)
    assert [json.loads(line)["resource"]["resourceType"] for line in lines] == ["Bundle", "Bundle"]


def test_several_xml_answers_print_one_document_per_line() -> None:
    """With --format xml, two files give two lines, each a whole XML document."""
    paths = [str(VALID / "01-purchase-standard.json"), str(VALID / "02-rental-bed.json")]
    result = CliRunner().invoke(app, ["submit", *paths, "--format", "xml", "--now", NOW])
    lines = result.stdout.splitlines()
    assert result.exit_code == EXIT_OK
    assert len(lines) == 2
    for line, path in zip(lines, paths, strict=True):
        assert line.startswith(f'<?xml version="1.0" encoding="UTF-8"?><!-- file: {path} --><Bundle ')


def test_an_unreadable_file_stops_the_run_before_any_answer() -> None:
    """A missing file among valid ones: exit 2, nothing adjudicated or printed."""
    missing = VALID / "00-does-not-exist.json"
    result = CliRunner().invoke(app, ["submit", str(VALID / "01-purchase-standard.json"), str(missing)])
    assert result.exit_code == EXIT_USAGE
    assert result.stdout == ""
    assert "cannot read" in result.stderr


# -- every valid fixture -------------------------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLES, ids=lambda path: path.name)
def test_valid_fixture_adjudicates_as_its_meta_says(path: Path) -> None:
    """Each valid Bundle (after its preceded-by scenarios) is answered with its meta's outcome."""
    meta = _meta(path.stem)
    files = [*_run_order(meta.get("preceded-by", [])), path]
    code, documents = _submit(files)
    assert code == EXIT_OK
    answer = documents[-1]
    responses = _claim_responses(answer)
    expected = [meta["outcome"], meta.get("amc-outcome", meta["outcome"])][: len(responses)]
    assert [r["outcome"] for r in responses] == expected
    assert len(responses) in (1, 2)
    for entry in answer["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "OperationOutcome":
            assert {issue["severity"] for issue in resource["issue"]} <= {"warning", "information"}
