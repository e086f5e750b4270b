"""The conformance runner: the fixture kit sent to a ``$submit`` endpoint, every answer checked.

``fixtures/README.md`` says what each file must get; this module does it over HTTP, so that an
integrator can test a deployment (this adapter's, or anything claiming the same contract)
before go-live: ``adapter conformance --base-url … --token …``.

- every ``valid/*.json`` is sent as ``application/fhir+json`` after the scenarios its
  ``.meta.json`` says precede it: HTTP 200, a response Bundle whose first entry is the AMO
  ClaimResponse, every ClaimResponse with the outcome of the meta file and, for a worked
  example, the totals and taux of its ``.expected.meta.json`` to the cent;
- every ``valid/*.xml`` after its JSON twin: HTTP 200 in XML, the same answer (a replay);
- every ``invalid/*`` input (answered in JSON, whatever its own format): the status of its
  ``.expected.json`` and exactly its multiset of ``(code, expression)`` error issues;
- after every valid scenario, its reads (``reads/<name>``, needing ``system/ClaimResponse.read``
  too): ``GET /Claim/{id}`` is the submitted Claim under the id its answers name, with
  ``meta.versionId``, an ``ETag`` that ``If-None-Match`` turns into a 304, ``GET /Bundle/{id}``
  the submitted entries, ``GET /ClaimResponse/{id}`` the AMO answer with its version, and
  ``POST /ClaimResponse/_search`` (a form, ``request=Claim/{id}``) exactly the answer's
  ClaimResponses.
- then every ``cancel/*.json`` cancellation (``Claim/$cancel``), after its ``.claim.json`` when
  it has one: the status of its ``.expected.json`` and exactly its error issues; a 200 answers
  every ClaimResponse ``cancelled``, and the same cancellation sent again the same bytes. A kit
  without ``cancel/`` has no cancellations to check;
- when the kit has them, every ``eligibility/*`` question sent to
  ``CoverageEligibilityRequest/$submit`` (after the whole of ``valid/``): its status and, for an
  answered one, per payer the insurer, ``inforce`` and per device ``excluded``, the benefit, the
  reste à charge and ``authorizationRequired``; a refused one, its error issues as above;
- every ``prescriptions/*`` DeviceRequest sent to ``DeviceRequest/$validate``: its status and
  exactly its multiset of ``(severity, code, expression)`` errors and warnings.

Sent twice to one store, the kit passes twice: the second run is answered by replays.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from adapter.errors import InputError, UsageError
from mappings.fhir.xml import parse_xml
from mappings.systems import ADJUDICATION, DEFAULT_BASE, Canon

__all__ = ["Check", "Comparison", "Kit", "planned", "run"]

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
_AMO_TOTALS = ("submitted", "eligible", "benefit", "ticket-moderateur", "depassement")
_AMC_TOTALS = ("benefit", "reste-a-charge")


@dataclass(frozen=True, slots=True)
class Comparison:
    """One thing the fixture expects, and what the answer gave (for reports, side by side)."""

    what: str
    expected: str
    actual: str

    @property
    def agrees(self) -> bool:
        return self.expected == self.actual


@dataclass(frozen=True, slots=True)
class Check:
    """One fixture's verdict: ``problems`` is empty when it passed. ``compared`` holds what
    was compared (status, outcome, amounts, issues), ``seconds`` the time its request took."""

    fixture: str
    problems: tuple[str, ...]
    compared: tuple[Comparison, ...] = ()
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class Kit:
    """A fixture directory (``valid/`` and ``invalid/``) and the canonical base of the error and
    adjudication code systems the answers use."""

    root: Path
    canonical_base: str = DEFAULT_BASE

    @property
    def error_system(self) -> str:
        return Canon(base=self.canonical_base).error

    @property
    def adjudication_systems(self) -> tuple[str, ...]:
        return (ADJUDICATION, Canon(base=self.canonical_base).adjudication)

    def valid_order(self) -> list[str]:
        """Scenario names, each after the scenarios its meta says precede it, each once."""
        order: dict[str, None] = {}

        def add(name: str, seen: tuple[str, ...]) -> None:
            if name in order or name in seen:
                return
            for before in self.meta(name).get("preceded-by", []):
                add(str(before), (*seen, name))
            order[name] = None

        for path in sorted((self.root / "valid").glob("*.json")):
            if ".meta." not in path.name:
                add(path.stem, ())
        return list(order)

    def meta(self, name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = _load(self.root / "valid" / f"{name}.meta.json")
        return loaded

    def cancellations(self) -> Iterator[tuple[Path, Path | None, dict[str, Any]]]:
        """(Parameters, the claim to submit first or None, expected) of every ``cancel/`` case."""
        for expected in sorted((self.root / "cancel").glob("*.expected.json")):
            stem = expected.name.removesuffix(".expected.json")
            claim = expected.with_name(f"{stem}.claim.json")
            yield expected.with_name(f"{stem}.json"), claim if claim.exists() else None, _expected(expected)

    def invalid_inputs(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        for expected in sorted((self.root / "invalid").glob("*.expected.json")):
            stem = expected.name.removesuffix(".expected.json")
            inputs = [p for p in expected.parent.glob(f"{stem}.*") if p.suffix in (".json", ".xml")]
            inputs = [p for p in inputs if not p.name.endswith(".expected.json")]
            for path in inputs:
                yield path, _expected(expected)


def _expected(path: Path) -> dict[str, Any]:
    """An invalid input's ``.expected.json``: ``{"status": int, "issues": [{code, expression}…]}``."""
    expected = _load(path)
    shaped = (
        isinstance(expected, dict)
        and isinstance(expected.get("status"), int)
        and isinstance(expected.get("issues"), list)
        and all(isinstance(i, dict) and {"code", "expression"} <= i.keys() for i in expected["issues"])
    )
    if not shaped:
        raise UsageError(f"{path}: expected {{'status': int, 'issues': [{{'code', 'expression'}}, …]}}")
    return dict(expected)


def _inputs(folder: Path) -> list[Path]:
    """The inputs of an ``eligibility/`` or ``prescriptions/`` folder (each beside its ``.expected.json``)."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix in (".json", ".xml") and ".meta." not in path.name and ".expected." not in path.name
    )


def planned(kit: Kit) -> int:
    """How many checks :func:`run` makes on ``kit`` (0 for a directory that is no kit)."""
    if not (kit.root / "valid").is_dir() or not (kit.root / "invalid").is_dir():
        return 0
    names = kit.valid_order()
    twins = sum((kit.root / "valid" / f"{name}.xml").exists() for name in names)
    extra = len(_inputs(kit.root / "eligibility")) + len(_inputs(kit.root / "prescriptions"))
    cancellations = sum(1 for _ in kit.cancellations())
    return 2 * len(names) + twins + sum(1 for _ in kit.invalid_inputs()) + cancellations + extra


def run(client: httpx.Client, kit: Kit, *, on_check: Callable[[Check], object] | None = None) -> list[Check]:
    """Send the kit through ``client`` (its base URL and credentials set) and check every answer;
    ``on_check`` hears of each verdict as it is made.

    Raises ``FileNotFoundError`` for a directory that is no kit, ``UsageError`` for a kit file
    that cannot be read or when the service refuses the credentials, and httpx's errors when it
    cannot be reached.
    """
    if not (kit.root / "valid").is_dir() or not (kit.root / "invalid").is_dir():
        raise FileNotFoundError(f"{kit.root} holds no valid/ and invalid/ fixture directories")
    checks: list[Check] = []

    def made(check: Check) -> None:
        checks.append(check)
        if on_check is not None:
            on_check(check)

    for number, name in enumerate(kit.valid_order()):
        path = kit.root / "valid" / f"{name}.json"
        started = time.perf_counter()
        response = _send(client, path.read_bytes(), FHIR_JSON)
        if number == 0 and response.status_code in (401, 403):
            raise UsageError(
                f"the service refused the first submission with HTTP {response.status_code}: "
                "give a token with system/Claim.write for every organisation of the kit"
            )
        made(_judged(f"valid/{path.name}", started, _check_valid, kit, name, response))
        started = time.perf_counter()
        made(_judged(f"reads/{path.name}", started, _check_reads, client, path, response))
        twin = path.with_suffix(".xml")
        if twin.exists():
            made(_judged(f"valid/{twin.name}", time.perf_counter(), _check_twin, client, twin, response))
    for path, expected in kit.invalid_inputs():
        content_type = FHIR_XML if path.suffix == ".xml" else FHIR_JSON
        started = time.perf_counter()
        response = _send(client, path.read_bytes(), content_type, accept=FHIR_JSON)
        made(_judged(f"invalid/{path.name}", started, _check_invalid, kit, expected, response))
    for path, claim, expected in kit.cancellations():
        started = time.perf_counter()
        made(_judged(f"cancel/{path.name}", started, _check_cancel, kit, client, path, claim, expected))
    for folder, operation, check in (
        ("eligibility", "/CoverageEligibilityRequest/$submit", _check_eligibility),
        ("prescriptions", "/DeviceRequest/$validate", _check_prescription),
    ):
        for path in _inputs(kit.root / folder):
            expected = _load(path.with_name(path.name.removesuffix(path.suffix) + ".expected.json"))
            content_type = FHIR_XML if path.suffix == ".xml" else FHIR_JSON
            started = time.perf_counter()
            response = client.post(
                operation,
                content=path.read_bytes(),
                headers={"Content-Type": content_type, "Accept": FHIR_JSON},
            )
            made(_judged(f"{folder}/{path.name}", started, check, kit, expected, response))
    return checks


def _check_eligibility(
    compared: list[Comparison], kit: Kit, expected: Mapping[str, Any], response: httpx.Response
) -> list[str]:
    """An eligibility answer against its ``.expected.json``: the refusal's issues, or per payer
    the insurer, ``inforce`` and each device's figures."""
    if "issues" in expected:
        return _check_invalid(compared, kit, expected, response)
    if not _status(compared, expected["status"], response):
        return [f"expected HTTP {expected['status']}, got {response.status_code}: {response.text[:300]}"]
    bundle, problem = _json_answer(response)
    if bundle is None:
        return [str(problem)]
    answers = [
        entry["resource"]
        for entry in bundle.get("entry", [])
        if entry.get("resource", {}).get("resourceType") == "CoverageEligibilityResponse"
    ]
    wanted = expected["responses"]
    compared.append(Comparison("CoverageEligibilityResponses", str(len(wanted)), str(len(answers))))
    if len(answers) != len(wanted):
        return [f"{len(answers)} CoverageEligibilityResponses, expected {len(wanted)}"]
    problems: list[str] = []
    for number, (answer, want) in enumerate(zip(answers, wanted, strict=True), start=1):
        insurance = answer["insurance"][0]
        found = {
            "insurer": answer["insurer"]["identifier"]["value"],
            "inforce": insurance.get("inforce"),
        }
        for key in ("insurer", "inforce"):
            compared.append(Comparison(f"response {number} {key}", str(want[key]), str(found[key])))
            if found[key] != want[key]:
                problems.append(f"response {number}: {key} {found[key]!r}, expected {want[key]!r}")
        items = insurance.get("item", [])
        if len(items) != len(want["items"]):
            problems.append(f"response {number}: {len(items)} items, expected {len(want['items'])}")
            continue
        for index, (item, item_wanted) in enumerate(zip(items, want["items"], strict=True)):
            for key, value in _eligibility_item(kit, item).items():
                if key not in item_wanted:
                    continue
                what = f"response {number} item {index + 1} {key}"
                compared.append(Comparison(what, str(item_wanted[key]), str(value)))
                if str(value) != str(item_wanted[key]):
                    problems.append(f"{what}: {value}, expected {item_wanted[key]}")
    return problems


def _eligibility_item(kit: Kit, item: Mapping[str, Any]) -> dict[str, Any]:
    """An answer's item as the kit's expected files write it (amounts as text, two decimals)."""
    benefits = {
        coding["code"]: benefit
        for benefit in item.get("benefit", [])
        for coding in benefit.get("type", {}).get("coding", [])
        if coding.get("system") == Canon(base=kit.canonical_base).eligibility_benefit
    }

    def money(code: str) -> str | None:
        value = benefits.get(code, {}).get("allowedMoney", {}).get("value")
        return None if value is None else f"{Decimal(str(value)):.2f}"

    return {
        "code": item["productOrService"]["coding"][0]["code"],
        "excluded": item.get("excluded"),
        "benefit": money("benefit"),
        "reste-a-charge": money("reste-a-charge"),
        "authorizationRequired": item.get("authorizationRequired"),
    }


def _check_prescription(
    compared: list[Comparison], kit: Kit, expected: Mapping[str, Any], response: httpx.Response
) -> list[str]:
    """A ``$validate`` answer: its status and exactly the expected errors and warnings."""
    problems = []
    if not _status(compared, expected["status"], response):
        problems.append(f"expected HTTP {expected['status']}, got {response.status_code}")
    outcome, problem = _json_answer(response)
    if outcome is None or outcome.get("resourceType") != "OperationOutcome":
        return [*problems, problem or "the answer is not an OperationOutcome"]
    found: Counter[tuple[str, str | None, str | None]] = Counter()
    for issue in outcome.get("issue", []):
        if issue.get("severity") not in ("fatal", "error", "warning"):
            continue
        codes = [
            c.get("code")
            for c in issue.get("details", {}).get("coding", [])
            if c.get("system") == kit.error_system
        ]
        expressions = issue.get("expression") or [None]
        found[
            (str(issue["severity"]).replace("fatal", "error"), codes[0] if codes else None, expressions[0])
        ] += 1
    wanted = Counter((i["severity"], i["code"], i["expression"]) for i in expected["issues"])
    compared.append(
        Comparison("errors and warnings", str(sorted(wanted.items())), str(sorted(found.items())))
    )
    if found != wanted:
        missing = sorted(wanted - found, key=str)
        extra = sorted(found - wanted, key=str)
        if missing:
            problems.append(f"missing issues {missing}")
        if extra:
            problems.append(f"unexpected issues {extra}")
    return problems


def _judged(fixture: str, started: float, check: Callable[..., list[str]], *arguments: Any) -> Check:
    """A fixture's verdict: the problems a check finds and what it compared; an answer too
    malformed to look into is one problem more, not a crash of the runner."""
    compared: list[Comparison] = []
    try:
        problems = tuple(check(compared, *arguments))
    except (KeyError, IndexError, TypeError, AttributeError, ArithmeticError, ValueError) as exc:
        problems = (f"the answer does not have the expected shape ({type(exc).__name__}: {exc})",)
    return Check(fixture, problems, tuple(compared), time.perf_counter() - started)


def _status(compared: list[Comparison], expected: int, response: httpx.Response) -> bool:
    compared.append(Comparison("HTTP status", str(expected), str(response.status_code)))
    return response.status_code == expected


def _load(path: Path) -> Any:
    """A JSON file of the kit; one that is missing or unreadable is the kit's fault, not the service's."""
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable JSON file of the kit ({exc})") from None


def _send(
    client: httpx.Client,
    body: bytes,
    content_type: str,
    accept: str | None = None,
    path: str = "/Claim/$submit",
) -> httpx.Response:
    return client.post(
        path,
        content=body,
        headers={"Content-Type": content_type, "Accept": accept or content_type},
    )


def _json_answer(response: httpx.Response) -> tuple[dict[str, Any] | None, str | None]:
    try:
        document = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return None, f"the answer is not JSON: {response.text[:200]!r}"
    if not isinstance(document, dict):
        return None, "the answer is not a JSON object"
    return document, None


def _check_valid(compared: list[Comparison], kit: Kit, name: str, response: httpx.Response) -> list[str]:
    if not _status(compared, 200, response):
        return [f"expected HTTP 200, got {response.status_code}: {response.text[:300]}"]
    bundle, problem = _json_answer(response)
    if bundle is None:
        return [str(problem)]
    responses = _claim_responses(bundle)
    first = bundle.get("entry", [{}])[0]
    if not responses or first.get("resource", {}).get("resourceType") != "ClaimResponse":
        return ["the answer is not a Bundle whose first entry is the AMO ClaimResponse"]
    problems = []
    meta = kit.meta(name)
    for index, claim_response in enumerate(responses):
        outcome = meta.get("amc-outcome", meta.get("outcome")) if index else meta.get("outcome")
        compared.append(
            Comparison(f"ClaimResponse {index + 1} outcome", str(outcome), str(claim_response.get("outcome")))
        )
        if claim_response.get("outcome") != outcome:
            problems.append(
                f"ClaimResponse {index + 1}: outcome {claim_response.get('outcome')!r}, expected {outcome!r}"
            )
    expected_path = kit.root / "valid" / f"{name}.expected.meta.json"
    if expected_path.exists():
        problems += _check_amounts(compared, kit, responses, _load(expected_path))
    return problems


def _check_amounts(
    compared: list[Comparison], kit: Kit, responses: list[dict[str, Any]], expected: Mapping[str, Any]
) -> list[str]:
    """The AMO totals and taux, then the AMC share, against a worked example's amounts."""
    problems = []
    wanted = expected["amo"]
    totals = _totals(kit, responses[0])
    rate = Decimal(wanted["rate"])  # 0: every line is a device off the LPP, refused and not rated
    for category in _AMO_TOTALS:
        found = totals.get(category)
        if found is None and not rate:
            found = Decimal("0.00")
        compared.append(Comparison(f"AMO {category}", str(wanted[category]), str(found)))
        if found != Decimal(wanted[category]):
            problems.append(f"AMO total {category}: {found}, expected {wanted[category]}")
    rates = _rates(kit, responses[0])
    shown = ", ".join(map(str, sorted(set(rates))))
    compared.append(Comparison("AMO taux", str(wanted["rate"]), shown))
    if set(rates) != ({rate} if rate else set()):
        problems.append(f"AMO taux {sorted(set(rates))}, expected {wanted['rate']} on every item")
    if expected["amc"] is None:
        if len(responses) != 1:
            problems.append(f"{len(responses)} ClaimResponses, expected the AMO's only")
        return problems
    if len(responses) != 2:
        return [*problems, f"{len(responses)} ClaimResponses, expected the AMO's and the AMC's"]
    amc = _totals(kit, responses[1])
    for category in _AMC_TOTALS:
        found = amc.get(category)
        compared.append(Comparison(f"AMC {category}", str(expected["amc"][category]), str(found)))
        if found != Decimal(expected["amc"][category]):
            problems.append(f"AMC total {category}: {found}, expected {expected['amc'][category]}")
    return problems


def _check_reads(
    compared: list[Comparison], client: httpx.Client, path: Path, submitted: httpx.Response
) -> list[str]:
    """The reads of a submitted claim: its Claim and Bundle as sent, its AMO ClaimResponse, and a
    search by POST that finds exactly the answer's ClaimResponses; versions and validators."""
    answer, problem = _json_answer(submitted)
    responses = [] if answer is None or submitted.status_code != 200 else _claim_responses(answer)
    if not responses:
        return [problem or "the submission was not answered: there is nothing to read back"]
    bundle = _load(path)
    claim_id = str(responses[0]["request"]["reference"]).removeprefix("Claim/")
    json_only = {"Accept": FHIR_JSON}
    problems: list[str] = []

    claim = client.get(f"/Claim/{claim_id}", headers=json_only)
    if not _status(compared, 200, claim):
        return [f"GET Claim/{claim_id}: expected HTTP 200, got {claim.status_code}"]
    read, problem = _json_answer(claim)
    read = read or {}
    compared.append(
        Comparison("Claim read", f"Claim/{claim_id}", f"{read.get('resourceType')}/{read.get('id')}")
    )
    if (read.get("resourceType"), read.get("id")) != ("Claim", claim_id):
        problems.append(f"GET Claim/{claim_id} is not that Claim: {problem or read.get('resourceType')}")
    elif _content(read) != _content(bundle["entry"][0]["resource"]):
        problems.append(f"GET Claim/{claim_id} is not the Claim submitted")
    problems += _check_validators(compared, client, f"/Claim/{claim_id}", claim, read)

    whole = client.get(f"/Bundle/{claim_id}", headers=json_only)
    stored, _ = _json_answer(whole)
    compared.append(Comparison("Bundle read", "200", str(whole.status_code)))
    if whole.status_code != 200 or (stored or {}).get("entry") != bundle["entry"]:
        problems.append(f"GET Bundle/{claim_id} ({whole.status_code}) is not the Bundle submitted")

    amo_id = str(responses[0]["id"])
    amo = client.get(f"/ClaimResponse/{amo_id}", headers=json_only)
    amo_read, _ = _json_answer(amo)
    compared.append(Comparison("ClaimResponse read", "200", str(amo.status_code)))
    if amo.status_code != 200 or (amo_read or {}).get("id") != amo_id:
        problems.append(f"GET ClaimResponse/{amo_id}: HTTP {amo.status_code}, not that ClaimResponse")
    else:
        problems += _check_validators(compared, client, f"/ClaimResponse/{amo_id}", amo, amo_read or {})

    found = client.post(
        "/ClaimResponse/_search",
        content=f"request=Claim/{claim_id}".encode(),
        headers={**json_only, "Content-Type": "application/x-www-form-urlencoded"},
    )
    searchset, _ = _json_answer(found)
    ids = sorted(str(e.get("resource", {}).get("id")) for e in (searchset or {}).get("entry", []))
    wanted = sorted(str(r.get("id")) for r in responses)
    compared.append(Comparison("ClaimResponses found by POST _search", ", ".join(wanted), ", ".join(ids)))
    if found.status_code != 200 or ids != wanted:
        problems.append(
            f"POST ClaimResponse/_search request=Claim/{claim_id}: HTTP {found.status_code}, {ids}"
        )
    return problems


def _content(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource without what the server sets on it (``id``, ``meta``)."""
    return {key: value for key, value in resource.items() if key not in ("id", "meta")}


def _check_validators(
    compared: list[Comparison],
    client: httpx.Client,
    url: str,
    response: httpx.Response,
    read: Mapping[str, Any],
) -> list[str]:
    """``meta.versionId`` and ``meta.lastUpdated``, an ETag ``W/"<versionId>"`` and Last-Modified,
    and a 304 for ``If-None-Match`` with that ETag."""
    meta = read.get("meta") or {}
    version = meta.get("versionId")
    tag = response.headers.get("etag")
    compared.append(Comparison(f"{url} ETag", f'W/"{version}"', str(tag)))
    if version is None or "lastUpdated" not in meta or tag != f'W/"{version}"':
        return [f'GET {url}: meta.versionId {version!r}, ETag {tag!r}: expected W/"<versionId>"']
    if "last-modified" not in response.headers:
        return [f"GET {url}: no Last-Modified"]
    again = client.get(url, headers={"Accept": FHIR_JSON, "If-None-Match": tag})
    compared.append(Comparison(f"{url} If-None-Match", "304", str(again.status_code)))
    if again.status_code != 304 or again.content:
        return [f"GET {url} with If-None-Match {tag}: HTTP {again.status_code}, expected a bodiless 304"]
    return []


def _check_twin(
    compared: list[Comparison], client: httpx.Client, twin: Path, json_response: httpx.Response
) -> list[str]:
    response = _send(client, twin.read_bytes(), FHIR_XML)
    if not _status(compared, 200, response):
        return [f"expected HTTP 200, got {response.status_code}: {response.text[:300]}"]
    try:
        answer = parse_xml(response.content)
    except InputError as exc:
        return [f"the answer is not FHIR XML: {exc}"]
    first, _ = _json_answer(json_response)
    if first is not None and answer != first:
        return ["the XML twin's answer differs from the JSON one's (a replay must repeat it)"]
    return []


def _check_invalid(
    compared: list[Comparison], kit: Kit, expected: Mapping[str, Any], response: httpx.Response
) -> list[str]:
    problems = []
    if not _status(compared, expected["status"], response):
        problems.append(f"expected HTTP {expected['status']}, got {response.status_code}")
    outcome, problem = _json_answer(response)
    if outcome is None or outcome.get("resourceType") != "OperationOutcome":
        return [*problems, problem or "the answer is not an OperationOutcome"]
    found = Counter(_error_issues(kit, outcome))
    wanted = Counter((issue["code"], issue["expression"]) for issue in expected["issues"])
    compared.append(Comparison("error issues", _issues_text(wanted), _issues_text(found)))
    if found != wanted:
        missing = sorted(wanted - found, key=str)
        extra = sorted(found - wanted, key=str)
        if missing:
            problems.append(f"missing issues {missing}")
        if extra:
            problems.append(f"unexpected issues {extra}")
    return problems


def _check_cancel(
    compared: list[Comparison],
    kit: Kit,
    client: httpx.Client,
    path: Path,
    claim: Path | None,
    expected: Mapping[str, Any],
) -> list[str]:
    if claim is not None:
        submitted = _send(client, claim.read_bytes(), FHIR_JSON)
        if submitted.status_code != 200:
            return [f"the claim to cancel was refused: HTTP {submitted.status_code}: {submitted.text[:300]}"]
    body = path.read_bytes()
    response = _send(client, body, FHIR_JSON, path="/Claim/$cancel")
    if expected["status"] != 200:
        return _check_invalid(compared, kit, expected, response)
    if not _status(compared, 200, response):
        return [f"expected HTTP 200, got {response.status_code}: {response.text[:300]}"]
    bundle, problem = _json_answer(response)
    if bundle is None:
        return [str(problem)]
    statuses = [str(claim_response.get("status")) for claim_response in _claim_responses(bundle)]
    compared.append(Comparison("ClaimResponse status", "cancelled", ", ".join(statuses) or "none"))
    problems = [] if statuses and set(statuses) == {"cancelled"} else [f"ClaimResponse status {statuses}"]
    again = _send(client, body, FHIR_JSON, path="/Claim/$cancel")
    if again.content != response.content:
        problems.append("the same cancellation sent again got another answer (it must replay)")
    return problems


def _issues_text(issues: Counter[tuple[str | None, str | None]]) -> str:
    """Issues one per line, ``code at expression``, in a stable order."""
    return "\n".join(f"{code} at {expression}" for code, expression in sorted(issues.elements(), key=str))


def _error_issues(kit: Kit, outcome: Mapping[str, Any]) -> Iterator[tuple[str | None, str | None]]:
    for issue in outcome.get("issue", []):
        if issue.get("severity") not in ("error", "fatal"):
            continue
        codings = issue.get("details", {}).get("coding", [])
        code = next((c.get("code") for c in codings if c.get("system") == kit.error_system), None)
        expressions = issue.get("expression") or [None]
        yield code, expressions[0]


def _claim_responses(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    if bundle.get("resourceType") != "Bundle":
        return []
    return [
        entry["resource"]
        for entry in bundle.get("entry", [])
        if isinstance(entry, dict) and entry.get("resource", {}).get("resourceType") == "ClaimResponse"
    ]


def _code(kit: Kit, concept: Mapping[str, Any]) -> str | None:
    for coding in concept.get("coding", []):
        if coding.get("system") in kit.adjudication_systems:
            code = coding.get("code")
            return code if isinstance(code, str) else None
    return None


def _totals(kit: Kit, response: Mapping[str, Any]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for total in response.get("total", []):
        code = _code(kit, total.get("category", {}))
        amount = total.get("amount", {})
        if code is not None and amount.get("currency") == "EUR":
            totals[code] = Decimal(str(amount.get("value")))
    return totals


def _rates(kit: Kit, response: Mapping[str, Any]) -> list[Decimal]:
    """The eligpercent value of every item, in item order."""
    return [
        Decimal(str(adjudication.get("value")))
        for item in response.get("item", [])
        for adjudication in item.get("adjudication", [])
        if _code(kit, adjudication.get("category", {})) == "eligpercent"
    ]
