"""The prescriber's side: what a device prescription must meet or say before it is printed.

Pure. The same rules the AMO applies to the claim later (domain-fr §1, §6), seen from the
prescription: the code reimbursable on the day (in the LPP table, not a deactivated generic
line), an entente préalable to write, the age bounds, the quantity against the code's caps
per delivery, per year and per renewal period, the twelve months of validity, the ALD part
when the patient's exonération is ALD, and the prescriber's RPPS key. Each finding is an
``Issue`` pointing at its element; severities follow what the AMO would do with the claim:
a refusal is an error, what only may go wrong is a warning, what was not checked information.
"""

from __future__ import annotations

from adapter.domain.prescription import PrescriptionToCheck
from adapter.domain.request import Exoneration
from adapter.domain.values import luhn_valid
from adapter.errors import Issue, Severity
from adapter.rules.config import RulesConfig
from adapter.rules.dates import add_months, age_on
from adapter.rules.lpp import LppTable

__all__ = ["check_prescription"]

_DEFAULT_CONFIG = RulesConfig()
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFORMATION


def check_prescription(
    check: PrescriptionToCheck, *, table: LppTable, config: RulesConfig = _DEFAULT_CONFIG
) -> list[Issue]:
    """Every finding on ``check``, errors first as they come, then the information of what was checked."""
    found: list[Issue] = []
    prescription, day = check.prescription, check.day
    rpps = prescription.prescriber.rpps
    if rpps is not None and not luhn_valid(rpps.value):
        found.append(
            Issue(
                "prescriber-identifier-suspect",
                f"the RPPS {rpps.value} fails its Luhn key: check the prescriber's number",
                check.path("requester"),
                _W,
            )
        )
    if prescription.period is not None and prescription.period.end is not None:
        expires = add_months(prescription.authored_on, config.prescription_validity_months)
        if prescription.period.end > expires:
            found.append(
                Issue(
                    "prescription-expired",
                    f"deliveries after {expires.isoformat()} ({config.prescription_validity_months} months "
                    "after the prescription) will be refused: shorten the period or renew later",
                    f"{check.path('occurrence')}.end",
                    _W,
                )
            )
    found.extend(_ald(check))
    code = prescription.lpp_code
    if code is None:
        found.append(
            Issue(
                "prescription-uncoded",
                "the device is named by text only: the supplier chooses the LPP code, whose "
                "reimbursement is not checked here",
                check.path("code"),
                _I,
            )
        )
        return found
    entry = table.lookup(code, day)
    if entry is None:
        found.append(
            Issue(
                "lpp-code-unknown",
                f"LPP code {code.value} is not in the LPP table on {day.isoformat()}: not reimbursable",
                check.path("code"),
            )
        )
        return found
    if entry.deactivated(day):
        found.append(
            Issue(
                "lpp-code-generic",
                f"LPP code {code.value} is a generic line deactivated since {entry.deactivated_on}: "
                "prescribe the individual code",
                check.path("code"),
            )
        )
    if entry.entente_prealable:
        found.append(
            Issue(
                "entente-prealable-required",
                f"LPP code {code.value} needs an accord préalable: fill in the demande d'entente préalable "
                "with the prescription",
                check.path("code"),
                _W,
            )
        )
    birth = None if check.beneficiary is None else check.beneficiary.birth_date
    if entry.age_min is not None or entry.age_max is not None:
        if birth is None:
            found.append(
                Issue(
                    "prescription-checked",
                    f"LPP code {code.value} has age bounds; without the patient's birth date "
                    "they were not checked",
                    check.path("subject"),
                    _I,
                )
            )
        else:
            age = age_on(birth, day)
            if (entry.age_min is not None and age < entry.age_min) or (
                entry.age_max is not None and age > entry.age_max
            ):
                bounds = f"{entry.age_min if entry.age_min is not None else 0}–{entry.age_max or '∞'}"
                found.append(
                    Issue(
                        "age-out-of-range",
                        f"the patient is {age} on {day.isoformat()}; "
                        f"LPP code {code.value} is for ages {bounds}",
                        check.path("subject"),
                    )
                )
    quantity = prescription.quantity
    if quantity is not None:
        where = check.path("quantity")
        if entry.max_per_delivery is not None and quantity > entry.max_per_delivery:
            found.append(
                Issue(
                    "quantity-delivery-cap",
                    f"{quantity} prescribed; LPP code {code.value} allows "
                    f"{entry.max_per_delivery} per delivery",
                    where,
                )
            )
        if entry.max_per_year is not None and quantity > entry.max_per_year:
            found.append(
                Issue(
                    "quantity-yearly-cap",
                    f"{quantity} prescribed; LPP code {code.value} allows "
                    f"{entry.max_per_year} per calendar year",
                    where,
                )
            )
        if entry.renewal_months is not None and quantity > entry.renewal_quantity:
            found.append(
                Issue(
                    "renewal-too-early",
                    f"{quantity} prescribed; LPP code {code.value} allows {entry.renewal_quantity} per "
                    f"{entry.renewal_months} months",
                    where,
                )
            )
    found.append(
        Issue(
            "prescription-checked",
            f"LPP code {code.value} checked against the LPP table on {day.isoformat()}: "
            f"BR {entry.tarif.en()}",
            check.path("code"),
            _I,
        )
    )
    return found


def _ald(check: PrescriptionToCheck) -> list[Issue]:
    exoneration, ald = check.exoneration, check.prescription.ald
    if exoneration is None:
        return [
            Issue(
                "prescription-checked",
                "no Coverage with the prescription: the ALD part was not checked against the exonération",
                check.path("insurance") if "insurance" in check.paths else "DeviceRequest",
                _I,
            )
        ]
    if exoneration is Exoneration.ALD and not ald:
        return [
            Issue(
                "prescription-ald-part",
                "the patient has an ALD exonération: if the device relates to the ALD, write it in the "
                "ALD part (the ALD extension), else it is reimbursed at the general taux",
                check.path("ald") if "ald" in check.paths else "DeviceRequest.extension",
                _W,
            )
        ]
    if exoneration is not Exoneration.ALD and ald:
        return [
            Issue(
                "prescription-ald-part",
                "the prescription is in the ALD part but the patient's coverage has no ALD exonération (4)",
                check.path("ald"),
                _W,
            )
        ]
    return []
