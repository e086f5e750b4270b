"""FHIR reimbursement adapter for French medical devices (LPP).

Importing this package is cheap: it loads no FHIR models, no web framework and no
database driver, so ``import adapter.domain`` is safe from anywhere (``mappings`` included).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
