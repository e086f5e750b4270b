"""The official FHIR R4 examples, fetched once into a cache for the tests that read them.

The examples come from the npm package ``hl7.fhir.r4.examples@4.0.1`` (HL7, CC0-1.0): one
JSON file per resource, named ``<Type>-<id>.json``. The first run fetches it with
``npm pack`` and keeps its JSON files in ``.cache/fhir-r4-examples/`` under the repository root
(gitignored), or in the folder named by ``ADAPTER_FHIR_EXAMPLES_DIR``; later runs read the
cache. Without npm, or when the fetch fails, the tests that need the examples fail and say
why: they are never skipped, so a green run always means the examples were checked.

Test modules take an ``official_example`` argument to be run once per selected file (the
listing is done at collection time), plus the ``official_examples_dir`` fixture, which turns
an unavailable cache into a failure with the reason.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

import pytest

__all__ = [
    "ENV_VAR",
    "MAX_EXAMPLE_BYTES",
    "PACKAGE",
    "RESOURCE_TYPES",
    "ExamplesUnavailableError",
    "ensure_examples",
    "selected_examples",
]

PACKAGE = "hl7.fhir.r4.examples@4.0.1"
ENV_VAR = "ADAPTER_FHIR_EXAMPLES_DIR"
RESOURCE_TYPES = frozenset(
    {
        "Bundle",
        "Claim",
        "ClaimResponse",
        "Coverage",
        "DeviceRequest",
        "Organization",
        "Patient",
        "Practitioner",
    }
)
# The package's ten definition Bundles (every StructureDefinition, ValueSet, SearchParameter…
# of the specification, 2 to 35 MB each) hold no example of the selected resources' content and
# would take minutes through fhir.resources' XML; every real example is under 1 MB.
MAX_EXAMPLE_BYTES = 1_000_000

_ROOT = Path(__file__).resolve().parents[2]
_INDEX = "resource-types.json"
_HEAD = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"resourceType"\s*:\s*"([A-Za-z]+)"')
_FETCH_TIMEOUT_S = 600


class ExamplesUnavailableError(RuntimeError):
    """The official examples are not cached and could not be fetched."""


def examples_dir() -> Path:
    """Where the examples are cached: ``$ADAPTER_FHIR_EXAMPLES_DIR`` or ``.cache/fhir-r4-examples``."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser().resolve()
    return _ROOT / ".cache" / "fhir-r4-examples"


@functools.cache
def ensure_examples() -> Path:
    """The cache folder, fetched first if it holds no example; raises ExamplesUnavailableError."""
    target = examples_dir()
    if not (target.is_dir() and any(p.name != _INDEX for p in target.glob("*.json"))):
        _fetch(target)
    return target


def _fetch(target: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ExamplesUnavailableError(
            f"the official FHIR examples are not in {target} and npm is not installed to fetch "
            f"{PACKAGE}; install Node.js (npm), or unpack the package's JSON files into a "
            f"folder and set {ENV_VAR} to it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fhir-examples-") as scratch:
        try:
            subprocess.run(
                [npm, "pack", PACKAGE],
                cwd=scratch,
                check=True,
                capture_output=True,
                timeout=_FETCH_TIMEOUT_S,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            raise ExamplesUnavailableError(
                f"`npm pack {PACKAGE}` failed ({exc}): {detail.decode('utf-8', 'replace').strip()[-500:]}"
            ) from exc
        archives = list(Path(scratch).glob("*.tgz"))
        if len(archives) != 1:
            raise ExamplesUnavailableError(f"`npm pack {PACKAGE}` produced no archive")
        # Extract beside the target and rename, so an interrupted run leaves no half cache.
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            _extract(archives[0], staging)
            if target.is_dir() and not any(target.iterdir()):
                target.rmdir()
            if target.exists():
                for path in staging.iterdir():
                    path.replace(target / path.name)
            else:
                staging.chmod(0o755)  # mkdtemp makes it private; it is a plain cache
                staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _extract(archive: Path, into: Path) -> None:
    """Extract ``package/*.json`` flat into ``into``, refusing anything but plain files."""
    with tarfile.open(archive, "r:gz") as tar:
        members = []
        for member in tar.getmembers():
            name = PurePosixPath(member.name)
            if member.isfile() and name.parent == PurePosixPath("package") and name.suffix == ".json":
                member.name = name.name
                members.append(member)
        if not members:
            raise ExamplesUnavailableError(f"{archive.name} holds no package/*.json file")
        tar.extractall(into, members=members, filter="data")


def _resource_types(directory: Path) -> dict[str, str]:
    """File name -> resourceType for every example, read once and kept beside the examples."""
    index = directory / _INDEX
    try:
        cached = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = None
    if isinstance(cached, dict):
        return {str(k): str(v) for k, v in cached.items()}
    types: dict[str, str] = {}
    for path in sorted(directory.glob("*.json")):
        if path.name == _INDEX:
            continue
        with path.open("rb") as handle:
            head = _HEAD.match(handle.read(512))
        if head is not None:
            types[path.name] = head.group(1).decode("ascii")
            continue
        try:
            document = json.loads(path.read_bytes())
        except ValueError:
            continue
        if isinstance(document, dict) and isinstance(document.get("resourceType"), str):
            types[path.name] = document["resourceType"]
    # A read-only folder given through the environment is indexed again on the next run.
    with contextlib.suppress(OSError):
        index.write_text(json.dumps(types, indent=0, sort_keys=True), encoding="utf-8")
    return types


def selected_examples(directory: Path) -> list[Path]:
    """Example files whose resourceType is in RESOURCE_TYPES, by name, definitions excluded."""
    chosen = []
    for name, resource_type in sorted(_resource_types(directory).items()):
        path = directory / name
        if resource_type in RESOURCE_TYPES and path.stat().st_size <= MAX_EXAMPLE_BYTES:
            chosen.append(path)
    return chosen


@pytest.fixture(scope="session")
def official_examples_dir() -> Path:
    """The folder of official examples; fails the test (never skips) when it cannot be had."""
    try:
        return ensure_examples()
    except ExamplesUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test taking ``official_example`` once per selected file, ids = file names."""
    if "official_example" not in metafunc.fixturenames:
        return
    try:
        files = selected_examples(ensure_examples())
    except ExamplesUnavailableError:
        # One placeholder case: ``official_examples_dir`` then fails it with the reason.
        metafunc.parametrize("official_example", [None], ids=["examples-unavailable"])
        return
    metafunc.parametrize("official_example", files, ids=[path.name for path in files])
