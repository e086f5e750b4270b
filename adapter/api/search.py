"""What every search route shares: reading the parameters (query string or a POSTed form),
checking their form, and writing the searchset Bundle with its paging links.

A value of the wrong form is a 400 naming the parameter, never an empty page: a client whose
filter the server could not read would otherwise take "no match" for an answer. FHIR date
parameters take every precision (year, month, day, minute, second, fraction); a time without
a zone is a French one, as the days are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from starlette.datastructures import QueryParams

from adapter.api.middleware import PayloadTooLarge
from adapter.api.negotiation import MediaType, UnsupportedMediaType, parse_media_type
from adapter.errors import InputError, Issue

__all__ = [
    "CONTROLS",
    "DATE_PATTERN",
    "DAYS_ZONE",
    "DAY_PATTERN",
    "DEFAULT_COUNT",
    "FORM_MEDIA_TYPE",
    "MAX_COUNT",
    "MAX_FORM_BYTES",
    "SORT_PATTERN",
    "SearchError",
    "SearchQuery",
    "SearchSpec",
    "date_bounds",
    "issue",
    "page_links",
    "parse_search",
    "read_form",
    "searchset",
]

DEFAULT_COUNT = 20
MAX_COUNT = 100
#: A POSTed search form is a handful of parameters: anything larger is not one.
MAX_FORM_BYTES = 16 * 1024
_MAX_FORM_FIELDS = 64
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"

#: The days (and the zoneless times) of date parameters are French: 00:30 in Paris is that day.
DAYS_ZONE = ZoneInfo("Europe/Paris")
# A real day of 1900-2999 (leap years included), so that the pattern the OpenAPI description
# publishes is exactly what the parser accepts.
_YEAR = r"(?:19|2[0-9])[0-9]{2}"
_DAY = (
    rf"{_YEAR}-(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    rf"|{_YEAR}-(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    rf"|{_YEAR}-02-(?:0[1-9]|1[0-9]|2[0-8])"
    r"|(?:(?:19|2[0-9])(?:0[48]|[2468][048]|[13579][26])|2[048]00)-02-29"
)
#: A real day, YYYY-MM-DD (1900-2999), as a regular expression.
DAY_PATTERN = _DAY
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
_ZONE = r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_PREFIXES = ("eq", "ge", "gt", "le", "lt")
#: A FHIR date search value: a prefix, then a year, a month, a day, or a day and a time.
DATE_PATTERN = (
    rf"(?:{'|'.join(_PREFIXES)})?(?:{_YEAR}|{_YEAR}-(?:0[1-9]|1[0-2])|(?:{_DAY})(?:T{_TIME}{_ZONE}?)?)"
)
_DATE_VALUE = re.compile(rf"({'|'.join(_PREFIXES)})?(.+)")
_DATE_CHECK = re.compile(DATE_PATTERN)
#: ``_sort``: one key, ``-`` for descending.
SORT_PATTERN = r"-?(?:created|_lastUpdated)"
#: The result parameters every search takes (FHIR's, plus ``_offset`` for paging links).
CONTROLS = ("_count", "_offset", "_sort", "_format")
_SORT = re.compile(SORT_PATTERN)


class SearchError(InputError):
    """The search asks for something this server does not implement (HTTP 400)."""

    http_status = 400


def issue(name: str, message: str) -> Issue:
    """A ``search-parameter`` issue naming the parameter, in the text and as the expression."""
    return Issue(code="search-parameter", message=f"{name}: {message}", expression=name)


@dataclass(frozen=True, slots=True)
class _Range:
    """The instants a date value means: [start, end)."""

    start: datetime
    end: datetime


def _range(text: str) -> _Range:
    """The range of a value ``DATE_PATTERN`` matched (so every part is known to be valid)."""
    if len(text) == 4:
        year = int(text)
        return _Range(_local(date(year, 1, 1)), _local(date(year + 1, 1, 1)))
    if len(text) == 7:
        year, month = int(text[:4]), int(text[5:7])
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return _Range(_local(date(year, month, 1)), _local(following))
    if len(text) == 10:
        day = date.fromisoformat(text)
        return _Range(_local(day), _local(day + timedelta(days=1)))
    clock = text[11:].removesuffix("Z")
    clock = re.split(r"[+-]", clock)[0]
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=DAYS_ZONE)
    if len(clock) == 5:  # hh:mm
        step = timedelta(minutes=1)
    elif len(clock) == 8:  # hh:mm:ss
        step = timedelta(seconds=1)
    else:  # a fraction of a second: its last digit is the precision
        step = timedelta(microseconds=10 ** (6 - (len(clock) - 9)))
    return _Range(at, at + step)


def _local(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=DAYS_ZONE)


def date_bounds(
    name: str, values: Sequence[str], issues: list[Issue]
) -> tuple[datetime | None, datetime | None]:
    """Date values as one window [from, before): each narrows it (FHIR's AND of repeats).

    A value is a range at its precision: ``eq`` keeps what falls in it, ``ge`` what is not
    before it, ``gt`` what is after it, ``le`` what is not after it, ``lt`` what is before it.
    """
    start: datetime | None = None
    before: datetime | None = None
    for value in values:
        match = _DATE_VALUE.fullmatch(value)
        if match is None or _DATE_CHECK.fullmatch(value) is None:
            issues.append(
                issue(
                    name,
                    "must be [eq|ge|gt|le|lt] then YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.fff]]"
                    "[Z|+hh:mm] (a real day; write + as %2B)",
                )
            )
            continue
        prefix, span = match.group(1) or "eq", _range(match.group(2))
        low = {"eq": span.start, "ge": span.start, "gt": span.end}.get(prefix)
        high = {"eq": span.end, "le": span.end, "lt": span.start}.get(prefix)
        if low is not None:
            start = low if start is None else max(start, low)
        if high is not None:
            before = high if before is None else min(before, high)
    return start, before


async def read_form(request: Request) -> QueryParams:
    """A POSTed search (``[type]/_search``): the URL's parameters and the form body's together,
    as FHIR defines it. The body is ``application/x-www-form-urlencoded`` in UTF-8 (else 415;
    none at all will do), at most ``MAX_FORM_BYTES`` (else 413), read by the standard library."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PayloadTooLarge(f"a search form is at most {MAX_FORM_BYTES} bytes")
    declared = request.headers.get("content-type")
    if not body and not declared:  # no form: the URL's parameters alone
        return request.query_params
    if not _is_form(parse_media_type(declared or "")):
        raise UnsupportedMediaType(f"a search by POST sends its parameters as {FORM_MEDIA_TYPE} (UTF-8)")
    try:
        text = bytes(body).decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, encoding="utf-8", errors="strict",
            max_num_fields=_MAX_FORM_FIELDS,
        )  # fmt: skip
    except (UnicodeDecodeError, ValueError) as exc:
        raise SearchError(
            [Issue(code="search-parameter", message=f"the search form cannot be read: {exc}")]
        ) from None
    return QueryParams([*request.query_params.multi_items(), *pairs])


def _is_form(media: MediaType | None) -> bool:
    if media is None or media.essence != FORM_MEDIA_TYPE:
        return False
    charset = media.params.get("charset")
    return charset is None or charset.lower() in ("utf-8", "utf8")


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """What one search route accepts besides ``CONTROLS``: its single-valued criteria, each
    with the regular expression of its values and a sentence saying it; its date parameters
    (given at most twice, for a range); other spellings of a criterion (``patient:identifier``)."""

    criteria: Mapping[str, tuple[str, str]]
    dates: tuple[str, ...] = ()
    aliases: Mapping[str, str] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.criteria, *self.dates, *(self.aliases or {}), *CONTROLS)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A checked search: criteria by FHIR name, date values and their windows, the page,
    the order and the requested ``_format``."""

    criteria: Mapping[str, str]
    dates: Mapping[str, tuple[str, ...]]
    windows: Mapping[str, tuple[datetime | None, datetime | None]]
    count: int = DEFAULT_COUNT
    offset: int = 0
    sort: str | None = None
    format: str | None = None

    def pairs(self) -> list[tuple[str, str]]:
        """The query's own parameters, for its paging links (``_offset`` apart)."""
        pairs = [*self.criteria.items()]
        pairs += [(name, value) for name, values in self.dates.items() for value in values]
        if self.sort is not None:
            pairs.append(("_sort", self.sort))
        pairs.append(("_count", str(self.count)))
        if self.format is not None:
            pairs.append(("_format", self.format))
        return pairs


def _non_negative(name: str, value: str | None, default: int, issues: list[Issue]) -> int:
    if value is None:
        return default
    if not value.isascii() or not value.isdigit():
        issues.append(issue(name, "must be a non-negative integer"))
        return default
    return int(value)


def parse_search(query: QueryParams, spec: SearchSpec) -> SearchQuery:
    """Check the parameters; every problem is reported at once, as one 400. An empty value is
    ignored (FHIR); an unknown parameter, a modifier, a repeat or a value of the wrong form is
    refused (the strict handling FHIR allows: a dropped filter would widen the answer)."""
    issues: list[Issue] = []
    values: dict[str, str] = {}
    dates: dict[str, tuple[str, ...]] = {}
    aliases = spec.aliases or {}
    given_names: dict[str, list[str]] = {}
    for name in dict.fromkeys(query.keys()):
        given = [value for value in query.getlist(name) if value != ""]
        canonical = aliases.get(name, name)
        if name in spec.names and not given:
            continue  # FHIR: a parameter with an empty value is ignored
        if name not in spec.names:
            issues.append(issue(name, f"unknown search parameter; supported: {', '.join(spec.names)}"))
        elif canonical in dates or canonical in given_names:
            issues.append(issue(name, f"{canonical} may be given once only"))
        elif canonical in spec.dates:
            if len(given) > 2:
                issues.append(issue(name, "may be given twice at most (a range)"))
            dates[canonical] = tuple(given[:2])
        else:
            given_names[canonical] = given
    for name, given in given_names.items():
        if len(given) > 1:
            issues.append(issue(name, "may be given once only"))
        elif given:
            values[name] = given[0]
    for name, (pattern, meaning) in spec.criteria.items():
        if name in values and re.fullmatch(pattern, values[name]) is None:
            issues.append(issue(name, meaning))
    windows = {name: date_bounds(name, dates[name], issues) for name in spec.dates if dates.get(name)}
    sort = values.get("_sort")
    if sort is not None and _SORT.fullmatch(sort) is None:
        issues.append(issue("_sort", "must be created, -created, _lastUpdated or -_lastUpdated"))
    count = min(_non_negative("_count", values.get("_count"), DEFAULT_COUNT, issues), MAX_COUNT)
    offset = _non_negative("_offset", values.get("_offset"), 0, issues)
    if issues:
        raise SearchError(issues)
    return SearchQuery(
        criteria={name: values[name] for name in spec.criteria if name in values},
        dates={name: values for name, values in dates.items() if values},
        windows=windows,
        count=count,
        offset=offset,
        sort=sort,
        format=values.get("_format"),
    )


def page_url(base: str, pairs: Sequence[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(pairs, safe='|:/')}"


def page_links(
    base: str,
    pairs: Sequence[tuple[str, str]],
    *,
    offset: int,
    next_offset: int | None,
    previous_offset: int | None,
) -> list[dict[str, str]]:
    """``self``, plus ``previous``/``next``: the search's own ``pairs`` with ``_offset`` set."""

    def at(position: int) -> str:
        return page_url(base, [*pairs, ("_offset", str(position))])

    links = [{"relation": "self", "url": at(offset)}]
    if previous_offset is not None:
        links.append({"relation": "previous", "url": at(previous_offset)})
    if next_offset is not None:
        links.append({"relation": "next", "url": at(next_offset)})
    return links


def searchset(
    base: str, resources: Sequence[Mapping[str, Any]], *, total: int, links: list[dict[str, str]]
) -> dict[str, Any]:
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {}
        if isinstance(resource.get("id"), str):
            entry["fullUrl"] = f"{base}/{resource['id']}"
        entry["resource"] = resource
        entry["search"] = {"mode": "match"}
        entries.append(entry)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    if entries:
        bundle["entry"] = entries
    return bundle
