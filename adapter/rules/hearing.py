"""Hearing aids are renewed per ear (domain-fr §1.4, §2.3): one device per ear per 4 years.

A per-ear code (``renewal_per_ear`` in the LPP table) counts its renewal twice: over both
ears together (``renewal_quantity``, 2 for hearing aids, as before the ear was known) and,
when the line names its ear (Claim.item.bodySite), over that ear alone (``renewal_per_ear``).
A line without its ear is paid on the pooled count only and flagged ``ear-missing``, a
warning: senders that do not send the ear yet are not refused, and the pooled count still
pays no more than two devices in the period.
"""

from __future__ import annotations

from datetime import date

from adapter.domain.decision import Finding, Note
from adapter.domain.request import Ear, Line
from adapter.rules.config import RulesConfig
from adapter.rules.expressions import item_expression
from adapter.rules.history import DeliveryLog
from adapter.rules.lpp import LppEntry
from adapter.rules.notes import reason

__all__ = ["ear_findings", "ear_note"]

_EARS = {Ear.LEFT: Note(fr="gauche", en="left"), Ear.RIGHT: Note(fr="droite", en="right")}


def ear_note(ear: Ear) -> Note:
    return _EARS[ear]


def ear_findings(
    line: Line, index: int, day: date, entry: LppEntry, log: DeliveryLog, config: RulesConfig
) -> list[tuple[Finding, Note]]:
    """(finding, reason) pairs for a per-ear code: its ear missing, or renewed too early."""
    per_ear, months = entry.renewal_per_ear, entry.renewal_months
    if per_ear is None or months is None:
        return []
    if line.ear is None:
        code = "ear-missing"
        note = reason(code)
        return [(_finding(code, note, item_expression(index, "bodySite"), line, config), note)]
    total = log.ear_units_within(entry.cap_group, line.ear.value, day, months) + line.quantity
    if total <= per_ear:
        return []
    ear = ear_note(line.ear)
    note = Note(
        fr=f"renouvellement avant {months} mois pour l'oreille {ear.fr} "
        f"({total} unités pour {per_ear} autorisée(s))",
        en=f"renewal within {months} months for the {ear.en} ear ({total} units where {per_ear} allowed)",
    )
    return [(_finding("renewal-too-early", note, item_expression(index, "bodySite"), line, config), note)]


def _finding(code: str, note: Note, expression: str, line: Line, config: RulesConfig) -> Finding:
    return Finding(
        code=code,
        text=note.en,
        expression=expression,
        blocking=code not in config.warning_findings,
        sequence=line.sequence,
    )
