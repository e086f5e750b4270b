"""The one kit of test builders: synthetic identifiers, FHIR Bundles, domain requests, rules data.

- ``identifiers``: the synthetic NIR (``nir``) and the Luhn-keyed FINESS/SIRET/RPPS numbers;
- ``bundles``: submission Bundles as FHIR JSON, written by hand from a ``Case`` (the
  ``fixtures/`` scenarios), never through the adapter's mapping they test;
- ``requests``: ``ReimbursementRequest`` objects built directly in the domain (and the sample
  one as the Bundle the adapter's mapping writes for it);
- ``rules``: the demo reference data and the two engines run together on it;
- ``submissions``: stored-submission rows for the store tests (what ``Store`` keeps);
- ``tokens``: the issuer, audience and clock of the auth tests, keys, JWKS and token minting.

Every person and organisation here is invented; identifiers are well formed (a NIR carries its
key, FINESS, SIRET and RPPS numbers pass Luhn) so a test fails only where it breaks one on purpose.
"""
