"""Every AMO line rejection, each triggered on its own, with its stable catalogue code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pytest

from adapter.domain import (
    BillerKind,
    BillingProvider,
    ClaimUse,
    DateRange,
    Finess,
    LppCode,
    Outcome,
    ReimbursementRequest,
)
from adapter.errors import CATALOGUE
from adapter.rules import DeliveryRecord
from adapter.rules.history import prescription_key
from adapter.rules.notes import REASONS
from tests.support.requests import PARIS, PATIENT, SUPPLIER, euros, line, request
from tests.support.rules import run

HOSPITAL = BillingProvider(finess=Finess("750712184"), name="Hôpital Démo")


def codes(req: ReimbursementRequest, *, history: Sequence[DeliveryRecord] = ()) -> list[tuple[str, ...]]:
    """The rejection codes of each AMO line, in sequence order."""
    amo, _ = run(req, history=history)
    return [tuple(r.code for r in decided.rejections) for decided in amo.decision.lines]


def test_unknown_code_is_rejected() -> None:
    """A code absent from the LPP table is rejected with lpp-code-unknown."""
    assert codes(request(line(code="1234567"))) == [("lpp-code-unknown",)]


def test_code_not_yet_listed_on_the_delivery_date_is_unknown() -> None:
    """A code whose first row starts after the delivery date is unknown on that date."""
    req = request(
        line(day=date(2019, 6, 3)),
        authored=date(2019, 6, 1),
        created=datetime(2019, 6, 10, tzinfo=PARIS),
    )

    assert codes(req) == [("lpp-code-unknown",)]


def test_deactivated_generic_code_rejects_the_whole_invoice() -> None:
    """One deactivated generic line rejects every line: the others carry invoice-generic-line."""
    amo, amc = run(
        request(line(1, code="1326761", price="2.50"), line(2), line(3, code="9900402", price="43.59"))
    )

    assert [tuple(r.code for r in d.rejections) for d in amo.decision.lines] == [
        ("lpp-code-generic",),
        ("invoice-generic-line",),
        ("invoice-generic-line",),
    ]
    assert amo.decision.outcome is Outcome.ERROR
    assert amo.decision.benefit_total == euros("0")
    assert amc is not None
    assert all(d.benefit == euros("0") for d in amc.decision.lines)


def test_generic_code_before_its_deactivation_is_paid() -> None:
    """The same generic code delivered the day before its deactivation is still paid."""
    req = request(
        line(code="1326761", price="2.50", day=date(2021, 6, 30)),
        authored=date(2021, 6, 1),
        created=datetime(2021, 7, 5, tzinfo=PARIS),
    )

    assert codes(req) == [()]


def test_generic_code_kept_as_an_exception_is_paid() -> None:
    """A temporary generic frame code without deactivation date is paid."""
    assert codes(request(line(code="7206130", price="30.00"))) == [()]


def test_price_above_plv_is_rejected() -> None:
    """A classe I hearing aid billed 960 € against a 950 € PLV is rejected with price-above-plv."""
    assert codes(request(line(code="9900101", price="960.00"))) == [("price-above-plv",)]


def test_closed_rights_are_rejected() -> None:
    """Rights ending before the delivery date reject the line with rights-closed."""
    rights = DateRange(start=date(2025, 1, 1), end=date(2026, 2, 28))

    assert codes(request(rights=rights)) == [("rights-closed",)]
    assert codes(request(rights=DateRange(start=date(2026, 1, 1)))) == [()]


def test_prescription_older_than_twelve_months_is_rejected() -> None:
    """A renewal 12 months and a day after the prescription is rejected with prescription-expired."""
    authored = date(2025, 3, 1)
    earlier = DeliveryRecord(
        nir=PATIENT,
        code=LppCode("9900001"),
        day=date(2025, 3, 15),
        quantity=1,
        provider=SUPPLIER.identifier,
        submission="EARLIER",
        prescription=prescription_key(request(authored=authored).prescription),
    )

    assert codes(request(authored=authored), history=[earlier]) == [("prescription-expired",)]
    assert codes(request(line(day=date(2026, 3, 1)), authored=authored), history=[earlier]) == [()]


def test_first_delivery_more_than_six_months_after_prescription_is_rejected() -> None:
    """A first delivery 6 months and a day after the prescription is rejected with first-delivery-late."""
    assert codes(request(authored=date(2025, 9, 1))) == [("first-delivery-late",)]
    assert codes(request(authored=date(2025, 9, 2))) == [()]


def test_first_delivery_window_spares_hearing_aids_and_optics() -> None:
    """Hearing aids and optics may be first delivered more than 6 months after the prescription."""
    late = date(2025, 8, 1)

    assert codes(request(line(code="9900101", price="950.00"), authored=late)) == [()]
    assert codes(request(line(code="7206130", price="30.00"), authored=late)) == [()]


def test_later_deliveries_escape_the_first_delivery_window() -> None:
    """Once the prescription was delivered, a delivery 7 months later is not a first delivery."""
    authored = date(2025, 8, 1)
    earlier = DeliveryRecord(
        nir=PATIENT,
        code=LppCode("9900001"),
        day=date(2025, 8, 5),
        quantity=1,
        provider=SUPPLIER.identifier,
        submission="EARLIER",
        prescription=prescription_key(request(authored=authored).prescription),
    )

    assert codes(request(authored=authored), history=[earlier]) == [()]


def test_missing_accord_prealable_is_rejected() -> None:
    """An electric wheelchair without an accord préalable reference is rejected; with one it is paid."""
    chair = line(code="9900501", price="3938.00")

    assert codes(request(chair)) == [("accord-prealable-missing",)]
    assert codes(request(chair, pre_auth=("AP-2026-0042",))) == [()]
    assert codes(request(chair, use=ClaimUse.PREAUTHORIZATION)) == [()]


@pytest.mark.parametrize(
    ("code", "price", "birth"),
    [("9900101", "950.00", date(2012, 5, 1)), ("9900102", "1400.00", date(1984, 1, 15))],
    ids=["adult-code-for-a-child", "child-code-for-an-adult"],
)
def test_age_outside_the_code_bounds_is_rejected(code: str, price: str, birth: date) -> None:
    """An adult hearing aid for a 13-year-old, or a child's for an adult, is rejected (age-out-of-range)."""
    assert codes(request(line(code=code, price=price), birth=birth)) == [("age-out-of-range",)]


def test_age_bounds_are_inclusive() -> None:
    """A beneficiary turning 20 on the delivery day may receive the adult hearing aid."""
    assert codes(request(line(code="9900101", price="950.00"), birth=date(2006, 3, 2))) == [()]
    assert codes(request(line(code="9900101", price="950.00"), birth=date(2006, 3, 3))) == [
        ("age-out-of-range",)
    ]


def test_establishment_billing_one_year_after_care_is_rejected() -> None:
    """An establishment billing on the anniversary of the care is too late (L.162-25 CSS;
    B2: strictly less than one year)."""
    on_time = request(created=datetime(2027, 3, 1, 23, 0, tzinfo=PARIS), provider=HOSPITAL)
    late = request(created=datetime(2027, 3, 2, 8, 0, tzinfo=PARIS), provider=HOSPITAL)

    assert codes(on_time) == [()]
    assert codes(late) == [("billing-deadline",)]


def test_establishment_billing_deadline_runs_from_the_rental_end() -> None:
    """For a rental, the year runs from its last day, not its first."""
    rental = line(code="1241763", price="12.35", qty=5, rental=(date(2026, 3, 2), date(2026, 4, 5)))

    assert codes(request(rental, created=datetime(2027, 3, 20, tzinfo=PARIS), provider=HOSPITAL)) == [()]
    assert codes(request(rental, created=datetime(2027, 4, 5, 9, tzinfo=PARIS), provider=HOSPITAL)) == [
        ("billing-deadline",)
    ]


def test_supplier_has_two_years_from_the_quarter_after_the_care() -> None:
    """A supplier (SIRET) bills within two years of the first day of the next quarter
    (L.332-1 CSS): care on 2/3/2026 (first quarter) may be billed until 31/3/2028."""
    on_time = request(created=datetime(2028, 3, 31, 20, 0, tzinfo=PARIS))
    late = request(created=datetime(2028, 4, 1, 8, 0, tzinfo=PARIS))

    assert codes(on_time) == [()]
    assert codes(late) == [("billing-deadline",)]


def test_stated_biller_kind_overrides_the_identifiers() -> None:
    """A FINESS-only provider that states it is a pharmacist gets the two-year deadline."""
    pharmacy = BillingProvider(finess=Finess("750712184"), kind=BillerKind.PHARMACIST)
    created = datetime(2027, 6, 1, 8, 0, tzinfo=PARIS)

    assert codes(request(created=created, provider=HOSPITAL)) == [("billing-deadline",)]
    assert codes(request(created=created, provider=pharmacy)) == [()]


def test_a_line_lists_every_reason() -> None:
    """A line broken in two ways carries both rejection codes."""
    rights = DateRange(start=date(2025, 1, 1), end=date(2025, 12, 31))

    assert codes(request(line(code="9900101", price="960.00"), rights=rights)) == [
        ("price-above-plv", "rights-closed")
    ]


def test_rejection_codes_are_in_the_catalogue() -> None:
    """Every rejection and finding code the rules emit is a stable catalogue entry."""
    missing = [code for code in REASONS if code not in CATALOGUE]
    assert missing == []


def test_rejected_line_is_explained_in_both_languages() -> None:
    """A rejected line's note names the line and the reason in French and in English."""
    amo, _ = run(request(line(code="9900101", price="960.00")))

    note = amo.decision.notes[1]
    assert note.fr == "Ligne 1 rejetée : prix unitaire 960,00 € supérieur au PLV 950,00 €"
    assert note.en == "Line 1 rejected: unit price €960.00 above the PLV €950.00"
    assert amo.decision.lines[0].rejections[0].text == "unit price €960.00 above the PLV €950.00"
