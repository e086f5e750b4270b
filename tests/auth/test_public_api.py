"""The public surface of adapter.auth."""

from __future__ import annotations

import adapter.auth


def test_every_public_name_resolves() -> None:
    """Each name in adapter.auth.__all__ is importable and listed once."""
    names = adapter.auth.__all__

    assert len(names) == len(set(names))
    assert all(hasattr(adapter.auth, name) for name in names)
