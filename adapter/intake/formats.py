"""Wire formats and the bounds every payload is held to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

__all__ = ["Format", "Limits"]


class Format(StrEnum):
    JSON = "json"
    XML = "xml"

    @property
    def media_type(self) -> str:
        return f"application/fhir+{self.value}"

    @classmethod
    def from_path(cls, path: str | PurePath) -> Format | None:
        suffix = PurePath(path).suffix.lower()
        return {".json": cls.JSON, ".xml": cls.XML}.get(suffix)

    @classmethod
    def sniff(cls, data: bytes) -> Format:
        """Guess from the first non-blank byte: ``<`` is XML, anything else is read as JSON."""
        head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        return cls.XML if head == b"<" else cls.JSON


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a client may send: body size in bytes and element nesting depth."""

    max_bytes: int = 5_000_000
    max_depth: int = 64
