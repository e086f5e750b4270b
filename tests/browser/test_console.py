"""The operator console (/console) in headless Chromium against a real ``adapter serve`` process.

The server runs on a free loopback port with its own data directory; a development token comes
from ``adapter dev-token`` in the same environment, and a few synthetic fixtures go in with httpx
first. The browser may reach nothing but that server. The test signs in, finds a claim by its
patient's NIR, opens its explanation and checks every amount shown against the ClaimResponses the
API returns, switches to English, reaches the explanation with the keyboard alone, and keeps
screenshots at 1280 px and 800 px (a tablet).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from mappings.fhir import jsonio
from tests.support.identifiers import nir

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "fixtures" / "valid"
FHIR_JSON = "application/fhir+json"
#: A claim of its own: fixture 01 for another synthetic patient, its prescriber's RPPS with a
#: wrong Luhn key so that the answer carries a warning (prescriber-identifier-suspect).
PATIENT = nir("1850375123456")
FIXTURE_NIR = "258037511490172"
OTHERS = ("02-rental-bed", "03-two-lines", "08-no-mutuelle")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _warned_claim() -> bytes:
    text = (VALID / "01-purchase-standard.json").read_text().replace(FIXTURE_NIR, PATIENT)
    bundle = json.loads(text)
    bundle["identifier"]["value"] += "-CONSOLE"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Practitioner":
            value = resource["identifier"][0]["value"]
            resource["identifier"][0]["value"] = value[:-1] + str((int(value[-1]) + 1) % 10)
    return json.dumps(bundle).encode()


@dataclass
class Served:
    url: str
    token: str
    claim_id: str


@contextlib.contextmanager
def _serve(base: Path, **settings: str) -> Iterator[tuple[str, str]]:
    """``adapter serve`` on a free port with its own data directory (and ``ADAPTER_*`` settings),
    and a token from ``adapter dev-token`` in the same environment; stopped on exit, its log
    checked for the token and the NIRs."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADAPTER_")}
    env["ADAPTER_DATA_DIR"] = str(base / "var")
    env.update({f"ADAPTER_{name.upper()}": value for name, value in settings.items()})
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = base / "server.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "adapter.cli", "serve", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not become ready within 60 s")
            time.sleep(0.2)
        minted = subprocess.run(
            [sys.executable, "-m", "adapter.cli", "dev-token"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        token = minted.stdout.strip()
        yield url, token
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    written = log.read_text(errors="replace")
    assert token not in written
    assert PATIENT not in written  # (the development banner quotes fixture 01's NIR as an example)


def _submit(url: str, token: str, body: bytes) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": FHIR_JSON}
    answer = httpx.post(f"{url}/Claim/$submit", content=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    bundle: dict[str, Any] = answer.json()
    return bundle


def _claim_id(bundle: dict[str, Any]) -> str:
    reference: str = bundle["entry"][0]["resource"]["request"]["reference"]
    return reference.split("/")[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``adapter serve`` with the reference payers, and the fixtures submitted."""
    with _serve(tmp_path_factory.mktemp("console")) as (url, token):
        for name in OTHERS:
            _submit(url, token, (VALID / f"{name}.json").read_bytes())
        claim_id = _claim_id(_submit(url, token, _warned_claim()))
        yield Served(url=url, token=token, claim_id=claim_id)


def _answer(served: Served) -> dict[str, Any]:
    """The claim's ClaimResponses and warnings, read from the API (amounts as Decimals)."""
    response = httpx.get(
        f"{served.url}/Claim/{served.claim_id}/$answer",
        headers={"Authorization": f"Bearer {served.token}", "Accept": FHIR_JSON},
    )
    assert response.status_code == 200
    bundle: dict[str, Any] = jsonio.loads(response.content)
    return bundle


def _by_payer(bundle: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    amo, amc, outcome = {}, {}, {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "OperationOutcome":
            outcome = resource
        elif resource["insurance"][-1]["coverage"]["display"].startswith("AMC"):
            amc = resource
        else:
            amo = resource
    return amo, amc, outcome


def _amounts(adjudications: list[dict[str, Any]]) -> dict[str, str]:
    return {
        a["category"]["coding"][0]["code"]: f"{Decimal(a['amount']['value']):.2f}"
        for a in adjudications
        if "amount" in a
    }


def _shown(page: Any, line: str) -> list[str | None]:
    """The data-amount of each amount cell of one row of the lines table, in column order."""
    cells = page.locator(f'#lines tr[data-line="{line}"] .num')
    return [cells.nth(i).get_attribute("data-amount") for i in range(cells.count())]


def _notes(resource: dict[str, Any], language: str) -> list[str]:
    return [
        note["text"]
        for note in resource.get("processNote", [])
        if note["language"]["coding"][0]["code"].split("-")[0] == language
    ]


def _expect(locator: Any) -> Any:
    """Playwright's auto-waiting assertions (its string predicates would need 'unsafe-eval',
    which the console's Content-Security-Policy refuses)."""
    from playwright.sync_api import expect

    return expect(locator)


def _sign_in(page: Any, served: Served) -> None:
    page.goto(f"{served.url}/console")
    page.get_by_label("Jeton d'accès").fill(served.token)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector("#results tbody tr", timeout=30_000)


def test_the_console_explains_a_claim(browser: Any, artefacts: Path, served: Served) -> None:
    outside: list[str] = []
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(f"{served.url}/")
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    # The page is public; its data is not: before sign-in nothing but the form shows.
    page.goto(f"{served.url}/console")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("#app").is_hidden()
    _sign_in(page, served)
    assert page.locator("#results tbody tr").count() == 1 + len(OTHERS)

    # Find the claim by its patient's NIR.
    page.get_by_label("NIR du patient").fill(PATIENT)
    page.get_by_role("button", name="Rechercher").click()
    _expect(page.locator("#results tbody tr")).to_have_count(1)
    row = page.locator("#results tbody tr")
    assert row.get_attribute("data-claim") == served.claim_id
    amo, amc, outcome = _by_payer(_answer(served))
    amo_totals, amc_totals = _amounts(amo["total"]), _amounts(amc["total"])
    assert [row.locator(".num").nth(i).get_attribute("data-amount") for i in range(4)] == [
        amo_totals["submitted"],
        amo_totals["benefit"],
        amc_totals["benefit"],
        amc_totals["reste-a-charge"],
    ]

    # Its explanation, line by line: the amounts are the ClaimResponses'.
    row.get_by_role("button").click()
    page.wait_for_selector("#lines tbody tr")
    assert page.evaluate("document.activeElement.id") == "explanation-title"
    for item_amo, item_amc in zip(amo["item"], amc["item"], strict=True):
        a, c = _amounts(item_amo["adjudication"]), _amounts(item_amc["adjudication"])
        line = str(item_amo["itemSequence"])
        assert _shown(page, line) == [
            a["submitted"],
            a["eligible"],
            None,  # the taux is a percentage, checked below
            a["benefit"],
            a.get("ticket-moderateur"),
            a.get("depassement"),
            c["benefit"],
            c.get("reste-a-charge"),
        ]
        rate = next(x["value"] for x in item_amo["adjudication"] if "value" in x)
        assert page.locator(f'#lines tr[data-line="{line}"] [data-rate]').get_attribute("data-rate") == str(
            rate
        )
    assert _shown(page, "total") == [
        amo_totals["submitted"],
        amo_totals["eligible"],
        None,
        amo_totals["benefit"],
        amo_totals.get("ticket-moderateur"),
        amo_totals.get("depassement"),
        amc_totals["benefit"],
        amc_totals.get("reste-a-charge"),
    ]
    body = page.locator("#explanation-body").inner_text()
    # The French notes (taux and why, the contract, the guarantee per line) and the warning.
    for note in _notes(amo, "fr") + _notes(amc, "fr"):
        assert note in body
    assert outcome["issue"][0]["details"]["coding"][0]["code"] in body
    shown_benefit = page.locator('#lines tr[data-line="total"] .num').nth(3).inner_text()
    assert shown_benefit.replace("\u202f", " ").replace("\xa0", " ") == "60,00 €"
    page.screenshot(path=str(artefacts / "console-explanation-1280.png"), full_page=True)

    # English: the labels, the notes and the amounts' format change; the amounts do not.
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#explanation-title").inner_text().startswith("Explanation of claim")
    body = page.locator("#explanation-body").inner_text()
    for note in _notes(amo, "en") + _notes(amc, "en"):
        assert note in body
    assert page.locator('#lines tr[data-line="total"] .num').nth(3).inner_text() == "€60.00"
    assert _shown(page, "total")[3] == amo_totals["benefit"]
    page.get_by_role("button", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"

    # A tablet: nothing wider than the screen but the tables, which scroll in their own region.
    page.set_viewport_size({"width": 800, "height": 1100})
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    page.screenshot(path=str(artefacts / "console-explanation-800.png"), full_page=True)
    page.get_by_role("button", name="Retour à la liste").click()
    page.screenshot(path=str(artefacts / "console-search-800.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(artefacts / "console-search-1280.png"), full_page=True)
    context.close()

    assert outside == []
    assert problems == []


def test_the_explanation_is_reached_with_the_keyboard(browser: Any, served: Served) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{served.url}/console")
    # The token field has the focus on arrival; typing and Enter sign in (the form's button).
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.insert_text(served.token)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results tbody tr", timeout=30_000)
    assert page.evaluate("document.activeElement.id") == "q-patient"
    page.keyboard.insert_text(PATIENT)
    page.keyboard.press("Enter")
    _expect(page.locator("#results tbody tr")).to_have_count(1)

    for _ in range(40):  # Tab until the row's explanation button has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('explain')"):
            break
    else:
        pytest.fail("the explanation button is not reachable with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Enter")
    page.wait_for_selector("#lines tbody tr")
    assert page.evaluate("document.activeElement.id") == "explanation-title"
    page.keyboard.press("Tab")  # next stop: the lines table's scrollable region
    assert page.evaluate("document.activeElement.getAttribute('aria-labelledby')") == "lines-caption"
    # Back to the list puts the focus back on the button that opened the explanation.
    page.get_by_role("button", name="Retour à la liste").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.classList.contains('explain')")
    context.close()


def test_every_field_has_a_label_and_every_table_its_headers(browser: Any, served: Served) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, served)
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select, textarea')]
             .filter(f => !f.labels || f.labels.length === 0).map(f => f.id)"""
    )
    assert unlabelled == []
    headless = page.evaluate(
        """[...document.querySelectorAll('table')]
             .filter(t => !t.querySelector('caption') || !t.querySelector('thead th[scope=col]'))
             .map(t => t.id)"""
    )
    assert headless == []
    unnamed = page.evaluate(
        """[...document.querySelectorAll('button')].filter(b => !b.hidden && !b.textContent.trim())
             .map(b => b.id)"""
    )
    assert unnamed == []
    assert page.evaluate("sessionStorage.getItem('adapter.console.token')") == served.token
    page.get_by_role("button", name="Se déconnecter").click()
    assert page.evaluate("sessionStorage.getItem('adapter.console.token')") is None
    assert page.locator("#app").is_hidden()
    context.close()


@pytest.fixture(scope="module")
def dead_letter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``adapter serve`` in connected mode with payers that never answer (a closed port): the
    embedded worker dead-letters the submitted claim at its first failure."""
    base = tmp_path_factory.mktemp("console-connected")
    nowhere = f"http://127.0.0.1:{_free_port()}"
    routes = base / "routes.yaml"
    routes.write_text(
        f'amo: [{{organismes: ["0"], url: "{nowhere}", name: amo-down}}]\n'
        f'amc: [{{amc_numbers: ["MUTEX00001"], url: "{nowhere}", name: amc-down}}]\n'
        "timeouts: {connect: 1, read: 1}\n"
        "retries: {attempts: 1, initial: 0.01, max: 0.01, budget: 1}\n"
    )
    settings = {"payer_routes": str(routes), "payer_budget": "1", "worker_max_attempts": "1"}
    with _serve(base, **settings) as (url, token):
        claim_id = _claim_id(_submit(url, token, (VALID / "01-purchase-standard.json").read_bytes()))
        deadline = time.monotonic() + 60
        search = f"{url}/ClaimResponse?state=dead"
        while httpx.get(search, headers={"Authorization": f"Bearer {token}"}).json()["total"] == 0:
            assert time.monotonic() < deadline, "the claim was not dead-lettered within 60 s"
            time.sleep(0.2)
        yield Served(url=url, token=token, claim_id=claim_id)


def test_a_dead_letter_is_requeued_from_the_console(
    browser: Any, artefacts: Path, dead_letter: Served
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requeues: list[int] = []
    page.on(
        "response",
        lambda response: requeues.append(response.status) if response.url.endswith("/$requeue") else None,
    )
    _sign_in(page, dead_letter)
    row = page.locator(f'#queue-table tbody tr[data-claim="{dead_letter.claim_id}"]')
    _expect(row).to_have_count(1)
    _expect(row.locator(".badge")).to_have_text("Lettre morte")
    _expect(row).to_contain_text("payer-unavailable")
    page.screenshot(path=str(artefacts / "console-dead-letters-1280.png"), full_page=True)

    row.get_by_role("button", name=re.compile("^Relancer la demande")).click()
    _expect(page.locator("#status")).to_contain_text("relancée")
    assert requeues == [200]
    # The worker asks the payers again at once; they still do not answer, so it is dead once more.
    _expect(row).to_have_count(1)
    context.close()


_CONTRAST = """() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const colour = rgb(getComputedStyle(e).backgroundColor);
      if (colour.length === 3 || colour[3] > 0) { return colour.slice(0, 3); }
    }
    return [255, 255, 255];
  };
  const worst = [];
  let checked = 0;
  const selector = "h1, h2, h3, h4, p, label, th, td, li, dt, dd, button, .badge, caption, .who";
  for (const element of document.querySelectorAll(selector)) {
    if (!element.offsetParent || !element.textContent.trim()) { continue; }
    const [a, b] = [luminance(rgb(getComputedStyle(element).color)), luminance(background(element))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    checked += 1;
    if (ratio < 4.5) { worst.push(`${element.tagName}.${element.className}: ${ratio.toFixed(2)}`); }
  }
  return [checked, worst];
}"""


def test_every_text_has_a_contrast_of_at_least_4_5(browser: Any, served: Served) -> None:
    """WCAG 2.1 AA (1.4.3) for every visible text of the signed-in page with an explanation open."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, served)
    page.locator("#results tbody tr .explain").first.click()
    page.wait_for_selector("#lines tbody tr")
    checked, worst = page.evaluate(_CONTRAST)
    assert checked > 50
    assert worst == []
    context.close()
