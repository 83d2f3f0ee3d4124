"""Scanning a backlog of non-positive disposals: read a JSON-lines or CSV file, check every
row, publish the good ones in date order onto district.disposals.v1, and wait while the
referral service screens them."""

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO
from uuid import NAMESPACE_URL, uuid4, uuid5

from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress

from civil_orders.stack.client import Client, committed_offsets, until_done
from plumbing.consumer import consumer_group, describe
from plumbing.http import MAX_BODY_BYTES
from plumbing.topics_admin import cluster_id
from schemas import dates
from schemas.district import DistrictDisposal, DistrictDisposalV1
from schemas.topics import topic_of

DISPOSALS = topic_of(DistrictDisposalV1).name
SCREENER = "referral"  # the consumer group that screens disposals: the referral service's
CLOCKS_APART = timedelta(minutes=5)  # at most, this machine's clock and the service's


@dataclass(frozen=True)
class Backlog:
    disposals: list[DistrictDisposal]
    errors: list[str]


@dataclass(frozen=True)
class Unreadable:
    """A row the file does not give: why."""

    why: str


NOT_UTF8 = Unreadable("not UTF-8 text (save the file as UTF-8)")


def read_backlog(path: Path) -> Backlog:
    """Every row of the file, checked: the good ones in date order, and what is wrong with
    each of the others, by line."""
    disposals, errors = [], []
    for line, row in _rows(path):
        if isinstance(row, Unreadable):
            errors.append(f"{path.name} line {line}: {row.why}")
            continue
        try:
            disposals.append(DistrictDisposal.model_validate(row))
        except ValidationError as error:
            errors.append(f"{path.name} line {line}: {describe(error)}")
    return Backlog(sorted(disposals, key=lambda d: d.disposed_on), errors)


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    """Each row by its line. A byte that is not UTF-8 is read as a lone surrogate
    (`surrogateescape`), so it spoils its own row alone; a byte-order mark (spreadsheets save
    "CSV UTF-8" with one) is read as one."""
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as file:
        yield from (_csv_rows if path.suffix.lower() == ".csv" else _json_rows)(file)


def _csv_rows(file: TextIO) -> Iterator[tuple[int, Any]]:
    records = csv.DictReader(file)
    while True:
        try:
            row = next(records)
        except StopIteration:
            return
        except csv.Error as error:  # a field over the csv module's limit: the rest is read on
            yield records.reader.line_num, Unreadable(f"not CSV: {error}")
            continue
        if not _in_utf8(*(text for text in (*row, *row.values()) if isinstance(text, str))):
            yield records.line_num, NOT_UTF8
            continue
        flags = row.get("intelligence_flags") or ""
        yield (
            records.line_num,
            {
                **{k: v for k, v in row.items() if v != ""},
                "intelligence_flags": [f for f in flags.split(";") if f],
            },
        )


def _json_rows(file: TextIO) -> Iterator[tuple[int, Any]]:
    for line, text in enumerate(file, start=1):
        if not text.strip():
            continue
        if not _in_utf8(text):
            yield line, NOT_UTF8
            continue
        try:
            yield line, json.loads(text)
        except json.JSONDecodeError as error:
            yield line, Unreadable(f"not JSON: {error.msg} at column {error.colno}")


def _in_utf8(*texts: str) -> bool:
    """Whether the texts were read from UTF-8 whole: without a lone surrogate for a bad byte."""
    try:
        for text in texts:
            text.encode()
    except UnicodeEncodeError:
        return False
    return True


async def scan(client: Client, backlog: Backlog, source: str, console: Console) -> dict[str, int]:
    """Publish the backlog, wait until the referral service has screened every disposal (its
    consumer group has committed past them), and count the new candidates it raised: those
    of its crimes flagged by the end and not at the start, each time counted among the ones
    flagged lately (since the scan began, give or take clocks a little apart), not listed.
    A rescan raises none."""
    references = sorted({d.crime_reference for d in backlog.disposals})
    lately = {"identified_since": (dates.now() - CLOCKS_APART).isoformat()}

    async def flagged() -> int:
        counts = [
            await client.query("referral", "/candidates/count", {"crime_references": c, **lately})
            for c in _bodies_of(references)
        ]
        return sum(count["count"] for count in counts)

    before = await flagged()
    count = len(backlog.disposals)
    bootstrap = client.bootstrap_servers
    group = consumer_group(SCREENER, await cluster_id(bootstrap))
    async with committed_offsets(bootstrap, group, DISPOSALS) as screener:
        with Progress(console=console) as progress:
            task = progress.add_task("publishing disposals", total=count)
            async for lot in client.publish_all(
                disposal_envelope(d, source) for d in backlog.disposals
            ):
                progress.advance(task, lot)
            published = await screener.end_offsets()
            screening = progress.add_task("screening", total=count)

            async def screened() -> int:
                return count - await screener.behind(published)

            await until_done(screened, count, progress, screening)
    return {"disposals": count, "candidates": await flagged() - before}


def _bodies_of(references: list[str]) -> Iterator[list[str]]:
    """The references in runs that each fit a request body, with room to spare."""
    run: list[str] = []
    size = 0
    for reference in references:
        room = len(json.dumps(reference)) + 1
        if run and size + room > MAX_BODY_BYTES // 2:
            yield run
            run, size = [], 0
        run.append(reference)
        size += room
    if run:
        yield run


def disposal_envelope(disposal: DistrictDisposal, source: str) -> DistrictDisposalV1:
    """Keyed by suspect, so each suspect's disposals are screened in date order."""
    suspect = disposal.suspect_nominal_id or disposal.crime_reference
    return DistrictDisposalV1(
        event_id=uuid5(NAMESPACE_URL, f"civil-orders:disposal/{disposal.crime_reference}"),
        occurred_at=dates.now(),
        producer=f"scan:{source}",
        aggregate_id=uuid5(NAMESPACE_URL, f"civil-orders:suspect/{suspect}"),
        aggregate_version=1,
        correlation_id=uuid4(),
        actor=f"scan:{source}",
        payload=disposal,
    )
