"""Which AMO taux applies, from the nature d'assurance, the exonération and the prescription.

Precedence (domain-fr §1.3): the aide médicale de l'État (not an insurance: its own cover,
whatever the nature), maternity and AT/MP natures, then exonérations (ALD only for a
prescription made in the ALD part of the form; invalidity; the others per RG_VF_CC15), then
the Alsace-Moselle local regime (which does not stack on an exonération, RG_VF674), then
ASPA, then the general case.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from adapter.domain.decision import Note
from adapter.domain.request import AmoCoverage, Exoneration, NatureAssurance, Prescription
from adapter.rules.config import AmoRates

__all__ = ["Taux", "amo_taux"]

_OTHER_EXONERATIONS = frozenset(
    {
        Exoneration.HEAVY_ACT,
        Exoneration.PARTICULAR_CARE,
        Exoneration.SPECIAL_REGIME,
        Exoneration.PREVENTION,
        Exoneration.CCAM_THRESHOLD,
    }
)


@dataclass(frozen=True, slots=True)
class Taux:
    """A taux in percent and the situation that set it (for the notes).

    ``above_tariff`` is set under AT/MP: the cover of an LPP device may go above the tariff,
    to that percent of it, within the price (``adapter.rules.at_mp``).
    """

    rate: Decimal
    basis: Note
    above_tariff: Decimal | None = None


def amo_taux(
    amo: AmoCoverage,
    prescription: Prescription | None,
    rates: AmoRates,
    at_mp_above_tariff: Decimal | None = None,
) -> Taux:
    nature, exoneration = amo.nature, amo.exoneration
    if amo.ame:
        return Taux(rates.ame, Note(fr="aide médicale de l'État", en="state medical aid (AME)"))
    if nature is NatureAssurance.MATERNITE:
        return Taux(rates.maternity, Note(fr="assurance maternité", en="maternity insurance"))
    if nature is NatureAssurance.AT_MP:
        return Taux(
            rates.at_mp,
            Note(fr="AT/MP", en="work accident or occupational disease"),
            at_mp_above_tariff,
        )
    if exoneration is Exoneration.ALD and prescription is not None and prescription.ald:
        return Taux(rates.ald, Note(fr="ALD, exonération 4", en="long-term illness, exoneration 4"))
    if exoneration is Exoneration.EXONERATED_INSURED:
        return Taux(rates.invalidity, Note(fr="exonération 5", en="exoneration 5"))
    if exoneration in _OTHER_EXONERATIONS:
        code = exoneration.value
        return Taux(rates.other_exoneration, Note(fr=f"exonération {code}", en=f"exoneration {code}"))
    if nature is NatureAssurance.ALSACE_MOSELLE:
        return Taux(
            rates.alsace_moselle,
            Note(fr="régime local Alsace-Moselle", en="Alsace-Moselle local regime"),
        )
    if exoneration is Exoneration.ASPA:
        return Taux(rates.aspa, Note(fr="ASPA", en="ASPA"))
    return Taux(rates.standard, Note(fr="cas général", en="general case"))
