"""FHIR ⇄ domain translation; the only user of fhir.resources.

Two layers, so that what is FHIR and what is this project's conventions stay apart:

* ``mappings.fhir``: generic FHIR R4, knowing nothing of the conventions. The JSON codec
  (``jsonio``, Decimals kept exact), the hardened XML codec (``xml``), the element metadata read
  once per R4B model class (used by both the XML codec and the walk), structural validation
  (pydantic errors → issues with FHIRPaths), the validation walk (codes, JSON kinds, references),
  and ``IssueReader``, the issue-collecting reader both sides build on.
* ``mappings.inbound``: the submission Bundle → ``ReimbursementRequest`` (one private module per
  resource), and ``to_bundle``, its inverse.
* ``mappings.outbound``: payer decisions → the ``Claim/$submit`` answer (ClaimResponses and an
  OperationOutcome) and back; issues ⇄ OperationOutcome.
* ``mappings.systems``: the URIs both sides use.

Each subpackage exports its API from its ``__init__``; its ``_`` modules are its own. Mappings
work on FHIR-JSON-shaped dicts (what ``jsonio.loads`` gives, with ``Decimal`` numbers).
"""
