"""The elements the second pass of the rules reads: the ear (Claim.item.bodySite), the
biller's kind (Organization.type) and the AME and CSS schemes (Coverage class ``scheme``)."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.domain import BillerKind, Ear
from adapter.errors import ConventionError
from adapter.intake import read_submission
from mappings import systems
from tests.support.bundles import CANON, as_bytes, bundle, entry_of


def _issues(value: dict[str, Any]) -> set[tuple[str, str | None]]:
    with pytest.raises(ConventionError) as caught:
        read_submission(as_bytes(value))
    return {(issue.code, issue.expression) for issue in caught.value.issues if issue.is_error}


def test_the_ear_is_read_from_the_item_body_site() -> None:
    """Both ears on one claim (SNOMED CT 89644007 left, 25577004 right)."""
    request = read_submission(as_bytes(bundle("23-hearing-aids-both-ears"))).request

    assert [line.ear for line in request.lines] == [Ear.LEFT, Ear.RIGHT]


def test_another_body_site_names_no_ear() -> None:
    """A body site that is not an ear (or not SNOMED CT) leaves the ear unknown: the rules warn."""
    value = bundle("22-hearing-aid-left-ear")
    value["entry"][0]["resource"]["item"][0]["bodySite"] = {
        "coding": [{"system": systems.SNOMED, "code": "117590005"}]
    }

    assert read_submission(as_bytes(value)).request.lines[0].ear is None


def test_the_stated_biller_kind_is_read_and_an_unknown_one_refused() -> None:
    value = bundle("28-pharmacist-stated-kind")
    assert read_submission(as_bytes(value)).request.provider.kind is BillerKind.PHARMACIST

    index, provider = entry_of(value, "Organization")
    provider["type"][0]["coding"][0]["code"] = "hospital"
    assert _issues(value) == {("provider-kind", f"Bundle.entry[{index}].resource.type[0].coding[0].code")}


def test_ame_and_css_schemes_are_read() -> None:
    ame = read_submission(as_bytes(bundle("31-ame"))).request
    css = read_submission(as_bytes(bundle("29-css-hearing-aid"))).request

    assert ame.amo.ame
    assert ame.amc is None
    assert css.amc is not None
    assert css.amc.css
    assert not css.amo.ame


def test_an_amc_insurance_under_ame_is_refused() -> None:
    """The AME pays alone: a second insurance is ame-with-amc at Claim.insurance[1]."""
    value = bundle("01-purchase-standard")
    _, coverage = entry_of(value, "Coverage", 0)
    coverage["class"].append(
        {"type": {"coding": [{"system": CANON.coverage_class, "code": "scheme"}]}, "value": "ame"}
    )

    assert _issues(value) == {("ame-with-amc", "Bundle.entry[0].resource.insurance[1]")}


def test_a_scheme_on_the_wrong_coverage_is_refused() -> None:
    """css belongs on the AMC Coverage, ame on the AMO one."""
    value = bundle("01-purchase-standard")
    index, coverage = entry_of(value, "Coverage", 0)
    coverage["class"].append(
        {"type": {"coding": [{"system": CANON.coverage_class, "code": "scheme"}]}, "value": "css"}
    )
    position = len(coverage["class"]) - 1

    assert _issues(value) == {("coverage-class", f"Bundle.entry[{index}].resource.class[{position}].value")}
