"""Which AMO taux applies: nature d'assurance, exonération and the ALD flag of the prescription."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapter.domain import Exoneration as Exo
from adapter.domain import NatureAssurance as Nature
from adapter.rules import AmoRates, RulesConfig
from adapter.rules.taux import amo_taux
from tests.support.requests import request
from tests.support.rules import run

CASES = [
    (Nature.MALADIE, Exo.NONE, False, 60),
    (Nature.MALADIE, Exo.ALD, True, 100),
    (Nature.MALADIE, Exo.ALD, False, 60),
    (Nature.MATERNITE, Exo.NONE, False, 100),
    (Nature.AT_MP, Exo.NONE, False, 100),
    (Nature.MALADIE, Exo.EXONERATED_INSURED, False, 100),
    (Nature.MALADIE, Exo.PARTICULAR_CARE, False, 100),
    (Nature.MALADIE, Exo.HEAVY_ACT, False, 100),
    (Nature.MALADIE, Exo.SPECIAL_REGIME, False, 100),
    (Nature.MALADIE, Exo.PREVENTION, False, 100),
    (Nature.MALADIE, Exo.CCAM_THRESHOLD, False, 100),
    (Nature.MALADIE, Exo.ASPA, False, 80),
    (Nature.ALSACE_MOSELLE, Exo.NONE, False, 90),
    (Nature.ALSACE_MOSELLE, Exo.ALD, True, 100),
    (Nature.ALSACE_MOSELLE, Exo.ASPA, False, 90),
    (Nature.PREVENTION, Exo.NONE, False, 60),
]


@pytest.mark.parametrize(("nature", "exoneration", "ald", "expected"), CASES)
def test_taux_by_situation(nature: Nature, exoneration: Exo, ald: bool, expected: int) -> None:
    """The taux follows domain-fr §1.3: 60 % by default, 100 % when exonerated, 90 % local, 80 % ASPA."""
    req = request(nature=nature, exoneration=exoneration, ald=ald)

    assert amo_taux(req.amo, req.prescription, AmoRates()).rate == expected


def test_ald_exoneration_needs_an_ald_prescription() -> None:
    """Exonération 4 on a prescription outside the ALD part of the form pays the standard 60 %."""
    amo, _ = run(request(exoneration=Exo.ALD, ald=False))

    assert amo.decision.lines[0].benefit.amount == Decimal("60.00")


def test_every_rate_is_configurable() -> None:
    """A configured Alsace-Moselle rate of 80 % replaces the unconfirmed 90 % default."""
    config = RulesConfig(rates=AmoRates(alsace_moselle=Decimal(80)))

    amo, _ = run(request(nature=Nature.ALSACE_MOSELLE), config=config)

    assert amo.decision.lines[0].rate == 80
    assert amo.decision.lines[0].benefit.amount == Decimal("80.00")


def test_rate_basis_is_explained_in_both_languages() -> None:
    """The first AMO note states the taux and the situation that set it, in French and English."""
    amo, _ = run(request(nature=Nature.MATERNITE))

    note = amo.decision.notes[0]
    assert note.fr == "Taux AMO : 100 % (assurance maternité)"
    assert note.en == "AMO rate: 100% (maternity insurance)"
