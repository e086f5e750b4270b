"""Pure FHIR ⇄ domain translators: one module per resource; the only user of fhir.resources.

Mappings work on FHIR-JSON-shaped dicts (what ``json.loads`` gives, with ``Decimal``
numbers); ``mappings._fhir`` is where the R4B models validate structure.
"""
