"""Hostile XML: each classic attack is refused with a 400 and a stable code, fast.

"Fast" is measured in CPU time (``time.thread_time`` for intake, which runs on the test's own
thread; ``time.process_time`` through the service, which runs on others) against generous
bounds, so that only
a cost growing faster than the input trips it: before the bounds of the XML reader, a Bundle
with 40,000 attributes cost four seconds, one with 100,000 nearly a minute. Nothing here may
touch the file system or the network: the payloads point at files and hosts that would show
in the answer, or hang the test, if they were fetched.
"""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

from adapter.bootstrap import build_app
from adapter.errors import MAX_ISSUES, ParseError
from adapter.intake import Format, read_submission
from adapter.settings import Settings
from mappings.fhir.xml import MAX_ATTRIBUTES, MAX_NAMESPACES, parse_xml

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "valid" / "01-purchase-standard.xml"
CPU_BOUND = 2.0
HTTP_CPU_BOUND = 5.0
FHIR = 'xmlns="http://hl7.org/fhir"'
XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'
SECRET = Path(__file__).resolve()  # a file whose path must never be read into an answer


def _valid() -> bytes:
    return FIXTURE.read_bytes()


def _with_root_attributes(text: str) -> bytes:
    """The valid fixture with ``text`` added to the Bundle's start tag."""
    return _valid().replace(f"<Bundle {FHIR}".encode(), f"<Bundle {FHIR} {text}".encode(), 1)


def _patient_with(narrative: str, *, root: str = "") -> bytes:
    """A Bundle whose one entry is a Patient with ``narrative`` as its div content."""
    return (
        f'<Bundle {FHIR} {root}><type value="collection"/><entry><resource><Patient>'
        f'<text><status value="generated"/><div {XHTML}>{narrative}</div></text>'
        "</Patient></resource></entry></Bundle>"
    ).encode()


def _deep_extensions(depth: int) -> bytes:
    nested = '<extension url="https://x.example/e">' * depth + "</extension>" * depth
    return (
        f'<Bundle {FHIR}><type value="collection"/><entry><resource><Patient>{nested}'
        "</Patient></resource></entry></Bundle>"
    ).encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE Bundle [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'.encode() for n in range(1, 10)
    )
    + f']><Bundle {FHIR}><type value="&lol9;"/></Bundle>'.encode()
)
QUADRATIC_BLOWUP = (
    f'<!DOCTYPE Bundle [<!ENTITY a "{"a" * 50_000}">]>'
    f'<Bundle {FHIR}><type value="{"&a;" * 50_000}"/></Bundle>'
).encode()

CASES: dict[str, tuple[bytes, str]] = {
    "billion laughs (entity expansion)": (BILLION_LAUGHS, "xml-forbidden"),
    "quadratic blow-up (one big entity, many references)": (QUADRATIC_BLOWUP, "xml-forbidden"),
    "external entity (XXE)": (
        (
            f'<!DOCTYPE Bundle [<!ENTITY x SYSTEM "file://{SECRET}">]>'
            f'<Bundle {FHIR}><type value="&x;"/></Bundle>'
        ).encode(),
        "xml-forbidden",
    ),
    "external parameter entity": (
        f'<!DOCTYPE Bundle [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><Bundle {FHIR}/>'.encode(),
        "xml-forbidden",
    ),
    "external DTD": (
        f'<!DOCTYPE Bundle SYSTEM "http://127.0.0.1:9/fhir.dtd"><Bundle {FHIR}/>'.encode(),
        "xml-forbidden",
    ),
    "internal DTD without entities": (
        f"<!DOCTYPE Bundle [<!ELEMENT Bundle ANY>]><Bundle {FHIR}/>".encode(),
        "xml-forbidden",
    ),
    "XInclude": (
        _valid().replace(
            b"</Bundle>",
            f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{SECRET}" parse="text"/>'
            "</Bundle>".encode(),
        ),
        "xml-namespace",
    ),
    "external schema (xsi:schemaLocation)": (
        _with_root_attributes(
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://hl7.org/fhir http://127.0.0.1:9/fhir-all.xsd"'
        ),
        "xml-namespace",
    ),
    "processing instruction (xml-stylesheet)": (
        _valid().replace(b"?>", b'?><?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?>', 1),
        "xml-forbidden",
    ),
    "100,000 attributes on the root": (
        _with_root_attributes(" ".join(f'a{n}="x"' for n in range(100_000))),
        "input-too-large",
    ),
    "40,000 attributes on a nested element": (
        _valid().replace(
            b'<type value="collection"/>',
            ('<type value="collection" ' + " ".join(f'a{n}="x"' for n in range(40_000)) + "/>").encode(),
            1,
        ),
        "input-too-large",
    ),
    "40,000 namespaced attributes": (
        _with_root_attributes(
            'xmlns:q="urn:q" ' + " ".join(f'q:a{n}="x"' for n in range(40_000)),
        ),
        "input-too-large",
    ),
    "attributes one over the bound": (
        _with_root_attributes(" ".join(f'a{n}="x"' for n in range(MAX_ATTRIBUTES + 1))),
        "input-too-large",
    ),
    "30,000 namespaces declared over a narrative": (
        _patient_with("text", root=" ".join(f'xmlns:p{n}="urn:p{n}"' for n in range(30_000))),
        "input-too-large",
    ),
    "namespaces one over the bound over a narrative": (
        _patient_with("text", root=" ".join(f'xmlns:p{n}="urn:p{n}"' for n in range(MAX_NAMESPACES))),
        "input-too-large",
    ),
    "100,000 nested elements": (
        f"<Bundle {FHIR}>".encode() + b"<entry>" * 100_000 + b"</entry>" * 100_000 + b"</Bundle>",
        "input-too-large",
    ),
    "nested extensions past the depth limit": (_deep_extensions(100), "input-too-large"),
    "deep XHTML in a narrative": (_patient_with("<b>" * 200 + "x" + "</b>" * 200), "input-too-large"),
    "a 4.9 MB text node": (
        f'<Bundle {FHIR}><type value="collection"/>{"x" * 4_900_000}</Bundle>'.encode(),
        "element-invalid",
    ),
    "a 4.9 MB attribute value": (
        f'<Bundle {FHIR}><type value="collection"/><total value="{"9" * 4_900_000}"/></Bundle>'.encode(),
        "element-invalid",
    ),
    "a body over the size limit": (b" " * 5_000_001 + _valid(), "input-too-large"),
    "UTF-16 declared": (
        b'<?xml version="1.0" encoding="UTF-16"?>' + _valid().split(b"?>", 1)[-1],
        "encoding-invalid",
    ),
    "a character reference XML cannot hold": (
        _valid().replace(b'<type value="collection"/>', b'<type value="coll&#0;ection"/>', 1),
        "invalid-xml",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_xml_is_refused_fast(name: str) -> None:
    data, code = CASES[name]
    start = time.thread_time()
    with pytest.raises(ParseError) as refused:
        read_submission(data, Format.XML)
    elapsed = time.thread_time() - start

    assert code in [issue.code for issue in refused.value.issues]
    assert refused.value.http_status == 400
    assert len(refused.value.issues) <= MAX_ISSUES
    assert elapsed < CPU_BOUND, f"{name} took {elapsed:.2f} s of CPU"


def test_attributes_up_to_the_bound_are_read_as_usual() -> None:
    """The bound refuses floods only: unknown attributes below it are reported one by one."""
    data = _with_root_attributes(" ".join(f'a{n}="x"' for n in range(MAX_ATTRIBUTES)))

    with pytest.raises(ParseError) as refused:
        read_submission(data, Format.XML)

    assert {issue.code for issue in refused.value.issues} == {"element-unknown"}
    assert len(refused.value.issues) == MAX_ATTRIBUTES


def test_many_namespaces_without_a_narrative_cost_nothing_more() -> None:
    """Namespace declarations are bounded where their cost is (a narrative's copy); elsewhere
    30,000 of them on the root read in linear time and change nothing."""
    data = _with_root_attributes(" ".join(f'xmlns:p{n}="urn:p{n}"' for n in range(30_000)))

    start = time.thread_time()
    submission = read_submission(data, Format.XML)

    assert time.thread_time() - start < CPU_BOUND
    assert submission.bundle == read_submission(_valid(), Format.XML).bundle


def test_extension_only_list_reads_in_linear_time() -> None:
    """Given names carried by an extension only (no value): four times as many cost about four
    times as much (the reader once copied a list per name: nine times, and growing)."""
    given = '<given><extension url="https://x.example/e"><valueCode value="masked"/></extension></given>'

    def cost(count: int) -> float:
        data = f"<Patient {FHIR}><name>{given * count}</name></Patient>".encode()
        gc.collect()
        gc.disable()  # the collector's passes grow with the whole test process's heap, not this input
        try:
            start = time.thread_time()
            parse_xml(data, max_bytes=len(data))
            return time.thread_time() - start
        finally:
            gc.enable()

    small, large = cost(20_000), cost(80_000)

    assert large < 6 * small, f"20,000 names: {small:.2f} s, 80,000 names: {large:.2f} s"


def test_issue_cap_says_how_many_were_left_out() -> None:
    """150 unknown elements: 99 issues, then one saying 51 more were found."""
    data = _valid().replace(b"</Bundle>", b"<nick/>" * 150 + b"</Bundle>")

    with pytest.raises(ParseError) as refused:
        read_submission(data, Format.XML)

    issues = refused.value.issues
    assert len(issues) == MAX_ISSUES
    assert [issue.code for issue in issues[:-1]] == ["element-unknown"] * (MAX_ISSUES - 1)
    assert issues[-1].code == "issues-truncated"
    assert "51 more issues" in issues[-1].message


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = build_app(Settings(data_dir=tmp_path_factory.mktemp("xml"), auth="disabled", log_level="ERROR"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_xml_over_http_is_a_fast_400(client: TestClient, name: str) -> None:
    """The same through the service: a 400 OperationOutcome in XML that quotes no file."""
    data, code = CASES[name]
    start = time.process_time()
    response = client.post("/Claim/$submit", content=data, headers={"Content-Type": "application/fhir+xml"})
    elapsed = time.process_time() - start

    status = 413 if len(data) > Settings().max_body_bytes else 400
    assert response.status_code == status
    assert f'<code value="{code}"/>'.encode() in response.content
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?><OperationOutcome')
    assert b"def test_hostile_xml" not in response.content
    assert elapsed < HTTP_CPU_BOUND, f"{name} took {elapsed:.2f} s of CPU"
