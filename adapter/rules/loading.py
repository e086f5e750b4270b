"""What both reference-data loaders share: the positioned error and the demo-data lookup.

A malformed file must be fixable without reading the code, so every error names the file,
the line and the column (a CSV column name, or a YAML key path with its character column).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from adapter.errors import ReferenceDataError

__all__ = ["DEMO_CONTRACTS", "DEMO_LPP_TABLE", "ReferenceDataFormatError", "read_source"]

DEMO_LPP_TABLE = "lpp-demo.csv"
DEMO_CONTRACTS = "contracts-demo.yaml"


class ReferenceDataFormatError(ReferenceDataError):
    """A reference-data file is malformed at a known place.

    ``line`` is 1-based; ``column`` is a CSV column name or a YAML key path, ``position``
    the 1-based character column when the format knows it.
    """

    def __init__(
        self,
        source: str,
        line: int,
        column: str | None,
        problem: str,
        *,
        position: int | None = None,
    ) -> None:
        where = f"{source}, line {line}"
        if column is not None:
            where += f", column {column!r}"
        if position is not None:
            where += f" (character {position})"
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.line = line
        self.column = column
        self.position = position
        self.problem = problem


def read_source(path: str | Path | None, demo: str) -> tuple[str, str]:
    """Return ``(name for messages, text)`` of ``path``, or of the packaged demo file."""
    if path is None:
        text = resources.files("adapter").joinpath("data").joinpath(demo).read_text(encoding="utf-8-sig")
        return demo, text
    file = Path(path)
    try:
        return str(file), file.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ReferenceDataError(f"{file}: cannot read the file ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ReferenceDataError(f"{file}: the file is not UTF-8") from None
