"""PECAN (prise en charge anticipée numérique, L.162-1-23 and R.162-112 ff. CSS): the forfaits
of a digital medical device during its one year of early coverage.

A first-period forfait (435 € for the first quarter for a DTx) opens the year; monthly
forfaits (38.30 €) follow once the first period is over; the forfaits of the year are capped
(780 € per patient) and none is paid after the year (domain-fr §2.2). Codes carry the
``pecan`` column of the LPP table (``first-period`` or ``monthly``) and one ``cap_group`` per
device; the windows and the cap are ``RulesConfig.pecan_*``.

- ``pecan-sequence``: a monthly forfait without any first-period forfait, or dated inside the
  first period; a second first-period forfait within the year;
- ``pecan-cap``: any forfait once the year opened by the first-period forfait is over (PECAN is
  not renewable), or one that takes the year's total above the cap.
"""

from __future__ import annotations

from datetime import date

from adapter.domain.request import Line
from adapter.domain.values import Money
from adapter.rules.config import RulesConfig
from adapter.rules.dates import add_months
from adapter.rules.expressions import serviced_expression
from adapter.rules.history import DeliveryLog
from adapter.rules.integrity import Flag, flag
from adapter.rules.lpp import LppEntry, LppTable

__all__ = ["FIRST_PERIOD", "MONTHLY", "pecan_findings"]


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


FIRST_PERIOD = "first-period"
MONTHLY = "monthly"


def pecan_findings(
    line: Line,
    index: int,
    day: date,
    entry: LppEntry | None,
    log: DeliveryLog,
    table: LppTable,
    config: RulesConfig,
) -> list[Flag]:
    """The PECAN findings on ``line`` (at position ``index``), dated ``day``."""
    if entry is None or entry.pecan is None or line.lpp_code is None:
        return []
    records = log.pecan_records(entry.cap_group)
    year_start = add_months(day, -config.pecan_months)
    firsts = [r.day for r in records if table.pecan(r.code) == FIRST_PERIOD and r.day <= day]
    first = min((when for when in firsts if year_start < when), default=None)
    opened = min(firsts, default=None)
    problem: tuple[str, str, str] | None = None
    if opened is not None and first is None:
        problem = (
            "pecan-cap",
            f"prise en charge anticipée d'un an, non renouvelable, terminée (ouverte le {_fr(opened)})",
            f"the one-year early coverage, not renewable, is over (opened on {opened.isoformat()})",
        )
    elif entry.pecan == MONTHLY and first is None:
        problem = (
            "pecan-sequence",
            "forfait mensuel sans forfait de première période",
            "monthly forfait without a first-period forfait",
        )
    elif (
        entry.pecan == MONTHLY
        and first is not None
        and day < add_months(first, config.pecan_first_period_months)
    ):
        problem = (
            "pecan-sequence",
            f"forfait mensuel dans la première période ouverte le {_fr(first)}",
            f"monthly forfait inside the first period opened on {first.isoformat()}",
        )
    elif entry.pecan == FIRST_PERIOD and first is not None:
        problem = (
            "pecan-sequence",
            f"forfait de première période déjà facturé le {_fr(first)}",
            f"first-period forfait already billed on {first.isoformat()}",
        )
    else:
        start = first or day
        spent = Money.zero()
        for record in records:
            if start <= record.day <= day:
                row = table.lookup(record.code, record.day)
                if row is not None:
                    spent = spent + row.tarif.times(record.quantity)
        total = spent + entry.tarif.times(line.quantity)
        if total > config.pecan_year_cap:
            problem = (
                "pecan-cap",
                f"{total.fr()} de forfaits sur l'année, au-delà du plafond de {config.pecan_year_cap.fr()}",
                f"{total.en()} of forfaits in the year, above the cap of {config.pecan_year_cap.en()}",
            )
    if problem is None:
        return []
    code, fr, en = problem
    return [
        flag(
            code,
            config,
            expression=serviced_expression(index, line),
            sequence=line.sequence,
            problem_fr=fr,
            problem_en=en,
        )
    ]
