"""Integrity findings: each one triggered, with its severity and the FHIRPath of the element."""

from __future__ import annotations

from datetime import date

from adapter.domain import Ear, Finding, LppCode, Prescriber, Rpps
from adapter.rules import DeliveryRecord, RulesConfig, rebase_expression
from tests.support.requests import OTHER_PATIENT, OTHER_SUPPLIER, PATIENT, SUPPLIER, euros, line, request
from tests.support.rules import run


def past(
    code: str,
    day: date,
    *,
    quantity: int = 1,
    provider: str = SUPPLIER.identifier,
    ear: Ear | None = None,
) -> DeliveryRecord:
    """A delivery already paid to the synthetic patient."""
    return DeliveryRecord(
        nir=PATIENT,
        code=LppCode(code),
        day=day,
        quantity=quantity,
        provider=provider,
        submission="EARLIER",
        ear=None if ear is None else ear.value,
    )


def test_duplicate_of_a_past_delivery_is_blocking() -> None:
    """Same NIR, code, date and provider as a paid delivery: duplicate-delivery rejects the line."""
    amo, _ = run(request(), history=[past("9900001", date(2026, 3, 2))])

    assert amo.findings == (
        Finding(
            code="duplicate-delivery",
            text="duplicate: code 9900001 on 2026-03-02 from the same provider is already billed",
            expression="Claim.item[0].serviced.ofType(date)",
            blocking=True,
            sequence=1,
        ),
    )
    assert [r.code for r in amo.decision.lines[0].rejections] == ["duplicate-delivery"]


def test_same_delivery_elsewhere_is_no_duplicate() -> None:
    """Another provider, another day or another patient's history is not a duplicate; the
    day after from the same provider is only a near-duplicate, a warning."""
    history = [
        past("9900001", date(2026, 3, 2), provider=OTHER_SUPPLIER.identifier),
        past("9900001", date(2026, 3, 3)),
    ]

    amo, _ = run(request(), history=history)
    other, _ = run(request(beneficiary=OTHER_PATIENT))

    assert [(f.code, f.blocking) for f in amo.findings] == [("near-duplicate-delivery", False)]
    assert not amo.decision.lines[0].rejected
    assert other.findings == ()


def test_duplicate_within_one_request_flags_the_later_line() -> None:
    """Two identical lines in one request: the higher sequence is the duplicate, whatever the order."""
    amo, _ = run(request(line(2), line(1)))

    assert [(f.code, f.sequence, f.expression) for f in amo.findings] == [
        ("duplicate-delivery", 2, "Claim.item[0].serviced.ofType(date)")
    ]
    assert amo.decision.line(1).benefit == euros("60.00")
    assert amo.decision.line(2).rejected


def test_quantity_over_the_delivery_cap() -> None:
    """Three boxes of strips where two are allowed per delivery: quantity-delivery-cap on the quantity."""
    amo, _ = run(request(line(code="9900401", price="15.00", qty=3)))

    assert [(f.code, f.expression, f.blocking) for f in amo.findings] == [
        ("quantity-delivery-cap", "Claim.item[0].quantity", True)
    ]


def test_quantity_over_the_yearly_cap_counts_the_calendar_year() -> None:
    """Three boxes this year plus two now exceed four a year; last year's boxes do not count."""
    this_year = [past("9900401", date(2026, 1, 5), quantity=2), past("9900401", date(2026, 2, 5))]
    last_year = [
        past("9900401", date(2025, 12, 5), quantity=2),
        past("9900401", date(2025, 11, 5), quantity=2),
    ]
    strips = line(code="9900401", price="15.00", qty=2)

    over, _ = run(request(strips), history=this_year)
    fine, _ = run(request(strips), history=last_year)

    assert [f.code for f in over.findings] == ["quantity-yearly-cap"]
    assert over.findings[0].text == "5 units in 2026, above the yearly cap of 4"
    assert fine.findings == ()


def test_yearly_cap_counts_earlier_lines_of_the_same_request() -> None:
    """Within one request, boxes of earlier accepted lines count toward the yearly cap."""
    amo, _ = run(
        request(
            line(1, "9900401", "15.00", qty=2, day=date(2026, 1, 5)),
            line(2, "9900401", "15.00", qty=2, day=date(2026, 2, 5)),
            line(3, "9900401", "15.00", qty=1, day=date(2026, 3, 5)),
            authored=date(2026, 1, 2),
        )
    )

    assert [(f.code, f.sequence) for f in amo.findings] == [("quantity-yearly-cap", 3)]


def test_renewal_before_the_interval_is_blocking() -> None:
    """Two classe I aids in 2024 then a classe II in 2026: renewal-too-early (the codes share a group)."""
    history = [past("9900101", date(2024, 1, 10), quantity=2)]

    amo, _ = run(request(line(code="9900103", price="1500.00", ear=Ear.LEFT)), history=history)

    assert [(f.code, f.expression) for f in amo.findings] == [
        ("renewal-too-early", "Claim.item[0].serviced.ofType(date)")
    ]
    assert amo.decision.lines[0].rejected


def test_renewal_after_the_interval_or_for_the_other_ear_is_paid() -> None:
    """Four years later, or a second ear after a single one, the hearing aid is paid."""
    old = [past("9900101", date(2022, 3, 1), quantity=2)]
    one_ear = [past("9900101", date(2025, 6, 1), quantity=1, ear=Ear.RIGHT)]
    aid = line(code="9900101", price="950.00", ear=Ear.LEFT)

    later, _ = run(request(aid), history=old)
    second_ear, _ = run(request(aid), history=one_ear)

    assert later.findings == ()
    assert second_ear.findings == ()


def test_hearing_aid_renewed_for_the_same_ear_is_blocking() -> None:
    """One aid for the left ear in 2025: another left aid in 2026 is renewal-too-early at its
    bodySite, though the pooled count (2 per 4 years) would allow it."""
    history = [past("9900101", date(2025, 6, 1), ear=Ear.LEFT)]

    amo, _ = run(request(line(code="9900103", price="1500.00", ear=Ear.LEFT)), history=history)

    assert [(f.code, f.expression, f.blocking) for f in amo.findings] == [
        ("renewal-too-early", "Claim.item[0].bodySite", True)
    ]
    assert "left ear" in amo.findings[0].text
    assert amo.decision.lines[0].rejected


def test_hearing_aid_without_its_ear_warns_and_counts_both_ears() -> None:
    """A hearing aid without bodySite is paid with an ear-missing warning; the pooled count
    (two per four years) still applies to it."""
    aid = line(code="9900101", price="950.00")

    fresh, _ = run(request(aid))
    third, _ = run(request(aid), history=[past("9900101", date(2025, 6, 1), quantity=2)])

    assert [(f.code, f.expression, f.blocking) for f in fresh.findings] == [
        ("ear-missing", "Claim.item[0].bodySite", False)
    ]
    assert not fresh.decision.lines[0].rejected
    assert [f.code for f in third.findings] == ["renewal-too-early", "ear-missing"]
    assert third.decision.lines[0].rejected


def test_paid_hearing_aid_records_its_ear() -> None:
    """The delivery record keeps the ear, so the next claim counts per ear."""
    amo, _ = run(request(line(code="9900101", price="950.00", ear=Ear.RIGHT)))

    assert [record.ear for record in amo.deliveries] == ["right"]


def test_second_telemonitoring_forfait_of_a_kind_in_a_month_is_blocking() -> None:
    """A technical forfait already billed in March makes another technical one in March cumulative."""
    history = [past("1612544", date(2026, 3, 1))]

    amo, _ = run(
        request(line(1, "1659468", "50.00"), line(2, "9900301", "28.00")),
        history=history,
    )

    assert [(f.code, f.sequence) for f in amo.findings] == [("telemonitoring-cumulative", 1)]
    assert amo.findings[0].text == "technical telemonitoring forfait already billed for that month"
    assert not amo.decision.line(2).rejected


def test_telemonitoring_series_covers_several_months() -> None:
    """A three-month operator series from January makes a March operator forfait cumulative."""
    history = [past("9900301", date(2026, 1, 5), quantity=3)]

    amo, _ = run(request(line(code="9900302", price="11.00")), history=history)

    assert [f.code for f in amo.findings] == ["telemonitoring-cumulative"]


def test_delivery_before_the_prescription_is_blocking() -> None:
    """A device delivered before it was prescribed: delivery-before-prescription."""
    amo, _ = run(request(line(day=date(2026, 2, 10)), authored=date(2026, 2, 20)))

    assert [(f.code, f.blocking) for f in amo.findings] == [("delivery-before-prescription", True)]
    assert amo.decision.lines[0].rejected


def test_rental_findings_point_at_the_serviced_period() -> None:
    """A rental line's date findings point at serviced.ofType(Period)."""
    rental = line(2, "1241763", "12.35", qty=2, rental=(date(2026, 2, 1), date(2026, 2, 14)))

    amo, _ = run(request(line(1), rental, authored=date(2026, 2, 20)))

    assert [f.expression for f in amo.findings] == ["Claim.item[1].serviced.ofType(Period)"]


def test_suspect_prescriber_identifier_only_warns() -> None:
    """An RPPS failing the (unconfirmed) Luhn key is a warning: the line is still paid."""
    suspect = Prescriber(rpps=Rpps("10101201234"))

    amo, _ = run(request(prescriber=suspect))

    assert [(f.code, f.blocking, f.expression) for f in amo.findings] == [
        ("prescriber-identifier-suspect", False, "DeviceRequest.requester")
    ]
    assert amo.decision.lines[0].benefit == euros("60.00")


def test_finding_severity_is_configurable() -> None:
    """Listing a code in warning_findings lets the line through; removing one makes it block."""
    duplicate = [past("9900001", date(2026, 3, 2))]
    lenient = RulesConfig(warning_findings=frozenset({"duplicate-delivery"}))
    strict = RulesConfig(warning_findings=frozenset())

    warned, _ = run(request(), history=duplicate, config=lenient)
    blocked, _ = run(request(prescriber=Prescriber(rpps=Rpps("10101201234"))), config=strict)

    assert [(f.code, f.blocking) for f in warned.findings] == [("duplicate-delivery", False)]
    assert not warned.decision.lines[0].rejected
    assert [r.code for r in blocked.decision.lines[0].rejections] == ["prescriber-identifier-suspect"]


def test_expressions_are_rebased_onto_the_bundle() -> None:
    """A Claim-relative path becomes a Bundle path given the entry index of each resource type."""
    entries = {"Claim": 0, "DeviceRequest": 3}

    assert rebase_expression("Claim.item[1].serviced.ofType(date)", entries) == (
        "Bundle.entry[0].resource.item[1].serviced.ofType(date)"
    )
    assert rebase_expression("DeviceRequest.requester", entries) == "Bundle.entry[3].resource.requester"
    assert rebase_expression("Patient.birthDate", entries) == "Patient.birthDate"
