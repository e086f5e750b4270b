"""Human text for decisions, in French and in English: reasons, line notes, dispositions.

Every sentence a payer emits is built here, so wording stays consistent and the engines
only pass numbers. Amounts use ``Money.fr()`` / ``Money.en()``; rates read "60 %" in French
and "60%" in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Final

from adapter.domain.decision import LineDecision, Note, Outcome, Rejection
from adapter.domain.values import Money

__all__ = [
    "REASONS",
    "Refusal",
    "amc_line_note",
    "amc_note",
    "amo_line_note",
    "amo_line_wording",
    "disposition",
    "line_note",
    "percent_en",
    "percent_fr",
    "reason",
    "refusal",
    "rejected_line_note",
    "taux_note",
]

# code → (French, English); ``{name}`` placeholders take Money, date, Decimal (a rate), a
# Note (a word to translate), int or str.
REASONS: Final[dict[str, tuple[str, str]]] = {
    "lpp-code-unknown": (
        "code LPP {code} inconnu à la date du {day}",
        "LPP code {code} is not listed on {day}",
    ),
    "lpp-code-generic": (
        "code générique {code} désactivé depuis le {since} : la facture entière est rejetée",
        "generic code {code} deactivated since {since}: the whole invoice is rejected",
    ),
    "invoice-generic-line": (
        "la facture contient un code générique désactivé (ligne {other})",
        "the invoice holds a deactivated generic code (line {other})",
    ),
    "price-above-plv": (
        "prix unitaire {price} supérieur au PLV {plv}",
        "unit price {price} above the PLV {plv}",
    ),
    "rights-closed": (
        "droits AMO fermés le {day}",
        "AMO rights not open on {day}",
    ),
    "prescription-expired": (
        "prescription du {authored} de plus de {months} mois le {day}",
        "prescription of {authored} older than {months} months on {day}",
    ),
    "first-delivery-late": (
        "première délivrance le {day}, plus de {months} mois après la prescription du {authored}",
        "first delivery on {day}, more than {months} months after the prescription of {authored}",
    ),
    "accord-prealable-missing": (
        "accord préalable requis pour le code {code} et absent",
        "code {code} requires an accord préalable and none is referenced",
    ),
    "age-out-of-range": (
        "âge {age} ans hors des bornes du code {code}",
        "age {age} outside the bounds of code {code}",
    ),
    "billing-deadline": (
        "facturé le {billed}, après le délai de facturation ({limit}) des soins du {day}",
        "billed on {billed}, past the billing deadline ({limit}) for the care of {day}",
    ),
    "duplicate-delivery": (
        "doublon : même code {code}, même date {day} et même fournisseur déjà facturés",
        "duplicate: code {code} on {day} from the same provider is already billed",
    ),
    "quantity-delivery-cap": (
        "quantité {quantity} au-delà du plafond de {cap} par délivrance",
        "quantity {quantity} above the cap of {cap} per delivery",
    ),
    "quantity-yearly-cap": (
        "{total} unités en {year}, au-delà du plafond annuel de {cap}",
        "{total} units in {year}, above the yearly cap of {cap}",
    ),
    "renewal-too-early": (
        "renouvellement avant {months} mois ({total} unités pour {allowed} autorisées)",
        "renewal within {months} months ({total} units where {allowed} are allowed)",
    ),
    "ear-missing": (
        "aide auditive sans oreille (bodySite) : le renouvellement est compté pour les deux oreilles",
        "hearing aid without its ear (bodySite): the renewal is counted over both ears",
    ),
    "css-price-above-tariff": (
        "prix unitaire {price} au-dessus du tarif {tarif} pour un bénéficiaire de la CSS",
        "unit price {price} above the tariff {tarif} for a complémentaire santé solidaire beneficiary",
    ),
    "telemonitoring-cumulative": (
        "forfait de télésurveillance {kind} déjà facturé pour ce mois",
        "{kind} telemonitoring forfait already billed for that month",
    ),
    "delivery-before-prescription": (
        "délivrance le {day}, avant la prescription du {authored}",
        "delivered on {day}, before the prescription of {authored}",
    ),
    "prescriber-identifier-suspect": (
        "le RPPS du prescripteur {rpps} échoue à la clé de Luhn",
        "the prescriber's RPPS {rpps} fails the Luhn key",
    ),
    "amo-not-listed": (
        "dispositif {product} non inscrit sur la LPP : l'Assurance Maladie ne le rembourse pas "
        "(art. L.165-1 CSS)",
        "device {product} is not on the LPP: the Assurance Maladie does not reimburse it (art. L.165-1 CSS)",
    ),
    "near-duplicate-delivery": (
        "doublon probable : même code {code} du même fournisseur le {other}, à {days} jour(s) du {day}",
        "probable duplicate: code {code} from the same provider on {other}, {days} day(s) from {day}",
    ),
    "renewal-other-provider": (
        "code {code} déjà délivré le {other} par un autre fournisseur, dans le délai de "
        "renouvellement de {months} mois",
        "code {code} already delivered on {other} by another provider, within the {months}-month "
        "renewal interval",
    ),
    "quantity-unusual": (
        "quantité {quantity} très au-delà de l'usuel ({usual}) pour le code {code}",
        "quantity {quantity} far above the usual ({usual}) for code {code}",
    ),
    "pecan-cap": (
        "PECAN : {problem_fr}",
        "PECAN: {problem_en}",
    ),
    "pecan-sequence": (
        "PECAN : {problem_fr}",
        "PECAN: {problem_en}",
    ),
    "amc-contract-unknown": (
        "contrat complémentaire {contract} inconnu",
        "complementary contract {contract} is unknown",
    ),
    "amc-rights-closed": (
        "droits complémentaires fermés le {day}",
        "complementary rights not open on {day}",
    ),
    "amc-amo-rejected": (
        "ligne rejetée par l'AMO : rien n'est versé par la complémentaire",
        "line rejected by the AMO: the complementary pays nothing",
    ),
    "amc-no-guarantee": (
        "le contrat {contract} ne garantit pas le code {code}",
        "contract {contract} has no guarantee for code {code}",
    ),
}


@lru_cache(maxsize=64)
def percent_fr(rate: Decimal) -> str:
    text = format(rate.normalize(), "f").replace(".", ",")
    return f"{text} %"


@lru_cache(maxsize=64)
def percent_en(rate: Decimal) -> str:
    return f"{format(rate.normalize(), 'f')}%"


def _fr(value: object) -> str:
    if isinstance(value, Note):
        return value.fr
    if isinstance(value, Money):
        return value.fr()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return percent_fr(value)
    return str(value)


def _en(value: object) -> str:
    if isinstance(value, Note):
        return value.en
    if isinstance(value, Money):
        return value.en()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return percent_en(value)
    return str(value)


def reason(code: str, /, **params: object) -> Note:
    """The reason ``code`` in both languages, placeholders filled per language."""
    fr, en = REASONS[code]
    return Note(
        fr=fr.format(**{k: _fr(v) for k, v in params.items()}),
        en=en.format(**{k: _en(v) for k, v in params.items()}),
    )


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a payer refuses a line: the stable code and the reason in both languages."""

    code: str
    reason: Note

    def rejection(self) -> Rejection:
        """The domain Rejection; its text is the English reason (notes carry both)."""
        return Rejection(code=self.code, text=self.reason.en)


def refusal(code: str, /, **params: object) -> Refusal:
    return Refusal(code, reason(code, **params))


def rejected_line_note(sequence: int, reasons: list[Note]) -> Note:
    return Note(
        fr=f"Ligne {sequence} rejetée : " + " ; ".join(r.fr for r in reasons),
        en=f"Line {sequence} rejected: " + "; ".join(r.en for r in reasons),
    )


def taux_note(rate: Decimal, basis: Note) -> Note:
    """``Taux AMO : 60 % (cas général)``: once per decision, the rate and why."""
    return Note(
        fr=f"Taux AMO : {percent_fr(rate)} ({basis.fr})",
        en=f"AMO rate: {percent_en(rate)} ({basis.en})",
    )


_ZERO_DECIMAL = Decimal(0)


def amo_line_note(
    decision: LineDecision,
    *,
    quantity: int,
    tarif: Money,
    tariffed: Money,
    gross: Money,
    deduction: Money,
) -> Note:
    """``Ligne 1 : BR 100,00 € × 60 % = 60,00 €``, with the BR's make-up when it needs one.

    ``tariffed`` is tarif × quantity; the BR differs from it when limited to the price.
    """
    fr, en = amo_line_wording(
        decision.eligible,
        quantity=quantity,
        tarif=tarif,
        tariffed=tariffed,
        rate=decision.rate or _ZERO_DECIMAL,
        gross=gross,
    )
    if deduction.amount:
        fr += f" − retenue {deduction.fr()} = {decision.benefit.fr()}"
        en += f" − deduction {deduction.en()} = {decision.benefit.en()}"
    return line_note(decision.sequence, fr, en)


def amo_line_wording(
    br: Money, *, quantity: int, tarif: Money, tariffed: Money, rate: Decimal, gross: Money
) -> tuple[str, str]:
    """The AMO line note without its line number and deduction: ``BR 100,00 € × 60 % = 60,00 €``
    in French and in English."""
    br_fr, br_en = br.fr(), br.en()
    if tariffed.amount != br.amount:
        fr_br = f"BR limitée au prix facturé {br_fr}"
        en_br = f"BR limited to the billed price {br_en}"
    elif quantity > 1:
        fr_br = f"BR {quantity} × {tarif.fr()} = {br_fr} ; {br_fr}"
        en_br = f"BR {quantity} × {tarif.en()} = {br_en}; {br_en}"
    else:
        fr_br, en_br = f"BR {br_fr}", f"BR {br_en}"
    return (
        f"{fr_br} × {percent_fr(rate)} = {gross.fr()}",
        f"{en_br} × {percent_en(rate)} = {gross.en()}",
    )


def line_note(sequence: int, fr: str, en: str) -> Note:
    """``Ligne 3 : …`` / ``Line 3: …``: a line's note from its wording in each language."""
    return Note(fr=f"Ligne {sequence} : {fr}", en=f"Line {sequence}: {en}")


def amc_line_note(decision: LineDecision, *, guarantee: Note) -> Note:
    """``Ligne 1 : mutuelle 150 % BR AMO comprise : 90,00 € ; reste à charge 0,00 €``."""
    rac = decision.reste_a_charge or decision.submitted
    return amc_note(decision.sequence, guarantee.fr, guarantee.en, benefit=decision.benefit, rac=rac)


def amc_note(sequence: int, basis_fr: str, basis_en: str, *, benefit: Money, rac: Money) -> Note:
    """:func:`amc_line_note` from the guarantee's wording and the two amounts."""
    return Note(
        fr=f"Ligne {sequence} : mutuelle {basis_fr} : {benefit.fr()} ; reste à charge {rac.fr()}",
        en=f"Line {sequence}: complementary {basis_en}: {benefit.en()}; out of pocket {rac.en()}",
    )


def disposition(payer: str, outcome: Outcome, lines: tuple[LineDecision, ...], *, estimate: bool) -> str:
    """One sentence for ClaimResponse.disposition."""
    verb = "would pay" if estimate else "pays"
    prefix = f"{payer} estimate" if estimate else payer
    if outcome is Outcome.ERROR:
        return f"{prefix}: no line could be adjudicated; nothing is payable."
    paid = len([line for line in lines if not line.rejected])
    total = Money._cents_exact(sum([line.benefit.amount for line in lines], _ZERO_DECIMAL))
    if outcome is Outcome.PARTIAL:
        return (
            f"{prefix}: {paid} of {len(lines)} lines adjudicated, "
            f"{len(lines) - paid} rejected; {payer} {verb} {total.en()}."
        )
    count = "1 line" if len(lines) == 1 else f"{len(lines)} lines"
    return f"{prefix}: {count} adjudicated; {payer} {verb} {total.en()}."
