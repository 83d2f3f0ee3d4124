"""Personal data sealed with a key per person: opened while the key lives, `[erased]` once it
is destroyed, refused when altered; the key store's master keys rotate; stored and wire
events carry no plain personal data."""

import base64
import os
from collections.abc import Collection
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    StoredEvent,
    UUIDAsHex,
)
from pydantic import ValidationError

from plumbing.eventstore import DateAsISO, RecentAggregates, dataclass_transcoding
from plumbing.keystore import BadMasterKeys, KeyStore, MasterKeys, MemoryKeys, StoredKey
from plumbing.personal import (
    PersonalData,
    PersonalDataErased,
    SealedValueAltered,
    SealingMapper,
    sealing_with,
)
from schemas.common import Subject as WireSubject
from schemas.personal import ERASED, SEAL, pseudonym, sealed_key
from schemas.referral import ReferralAccepted, ReferralAcceptedV1
from schemas.topics import topic_of
from schemas.trace import Trace
from services.referral.domain import Referral, Subject
from services.referral.personal import PERSONAL

NAME, BORN, NOMINAL = "Arlo Dunmere", date(1981, 5, 4), "SYN-P-1"


def master(*versions: int) -> MasterKeys:
    return MasterKeys.parse(
        ",".join(f"{v}:{base64.b64encode(os.urandom(32)).decode()}" for v in versions)
    )


def personal(keys: MasterKeys | None = None, table: MemoryKeys | None = None) -> PersonalData:
    return PersonalData(KeyStore(table or MemoryKeys(), keys or master(1), b"lookup"))


def test_a_sealed_value_opens_while_the_key_lives_and_reads_erased_once_it_is_destroyed() -> None:
    data = personal()
    sealed = data.sealer(data.key_for(NOMINAL))(NAME)

    opened = data.open_json(sealed)
    erased_key = data.erase(NOMINAL)

    assert NAME not in sealed and sealed_key(sealed) == erased_key
    assert opened == NAME
    assert data.open_json(sealed) == ERASED


def test_each_person_has_their_own_key_made_the_first_time_they_are_seen() -> None:
    data = personal()

    first, again, other = data.key_for(NOMINAL), data.key_for(NOMINAL), data.key_for("SYN-P-2")

    assert first == again != other
    assert data.erase("SYN-P-3") is None  # nobody to erase


def test_an_altered_sealed_value_is_refused_not_read() -> None:
    data = personal()
    sealed = data.sealer(data.key_for(NOMINAL))(NAME)
    head, _, body = sealed.rpartition(":")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[-1] ^= 1
    altered = f"{head}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    other = str(data.key_for("SYN-P-2"))
    moved = sealed.replace(str(sealed_key(sealed)), other)  # under another person's key

    for wrong in (altered, moved):
        with pytest.raises(SealedValueAltered):
            data.open_json(wrong)


def test_keys_wrapped_by_an_old_master_key_are_rewrapped_by_the_newest_and_still_open() -> None:
    old, table = master(1), MemoryKeys()
    sealed = (data := personal(old, table)).sealer(data.key_for(NOMINAL))(NAME)
    both = MasterKeys({**old.by_version, **master(2).by_version})

    rewrapped = KeyStore(table, both, b"lookup").rotate()
    newest_only = MasterKeys({2: both.by_version[2]})

    assert rewrapped == 1
    assert {k.master_version for k in table.keys.values()} == {2}
    assert personal(newest_only, table).open_json(sealed) == NAME


def test_master_keys_that_are_not_version_and_32_bytes_are_refused() -> None:
    for text in ("", "one:AAAA", f"1:{base64.b64encode(b'short').decode()}"):
        with pytest.raises(BadMasterKeys):
            MasterKeys.parse(text)


def transcoder() -> JSONTranscoder:
    coder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        coder.register(transcoding)
    for value_type in (Trace, Subject):
        coder.register(dataclass_transcoding(value_type))
    return coder


def received(nominal: str = NOMINAL) -> Referral:
    return Referral(
        district="north",
        district_reference="NTH-P-1",
        source="staff form",
        referring_officer="PC 1 (synthetic)",
        subject=Subject(nominal, NAME, BORN),
        order_sought="SRO",
        grounds="Synthetic grounds: approaches to children.",
        crime_references=["CR/1/26"],
        previous_convictions=[],
        referred_on=date(2026, 1, 5),
        received_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        trace=Trace("district-system:north", uuid4()),
    )


def stored_referral(data: PersonalData) -> tuple[SealingMapper, Any, StoredEvent]:
    """A referral's Received event, as the mapper stores it (and the mapper)."""
    referral, mapper = received(), SealingMapper(transcoder(), data, PERSONAL)
    [event] = referral.collect_events()
    with sealing_with({referral.id: data.key_for(NOMINAL)}):
        return mapper, event, mapper.to_stored_event(event)


def test_a_stored_event_holds_its_personal_fields_sealed_and_reads_back_whole() -> None:
    mapper, event, stored = stored_referral(personal())

    read = mapper.to_domain_event(stored)

    for plain in (NAME, BORN.isoformat(), NOMINAL, "approaches", "CR/1/26"):
        assert plain.encode() not in stored.state
    assert b"NTH-P-1" in stored.state  # what is not personal stays readable
    assert vars(read) == vars(event)


def test_after_erasure_a_stored_event_replays_with_its_personal_fields_erased() -> None:
    mapper, _, stored = stored_referral(data := personal())

    data.erase(NOMINAL)
    replayed = mapper.to_domain_event(stored).mutate(None)

    assert (replayed.subject.name, replayed.subject.date_of_birth) == (ERASED, ERASED)
    assert (replayed.grounds, replayed.crime_references) == (ERASED, [ERASED])
    assert (replayed.district_reference, replayed.status.value) == ("NTH-P-1", "received")


def accepted() -> ReferralAcceptedV1:
    return ReferralAcceptedV1(
        event_id=uuid4(),
        occurred_at=datetime.now(UTC),
        producer="referral",
        aggregate_id=uuid4(),
        aggregate_version=3,
        sequence=7,
        correlation_id=uuid4(),
        actor="caseworker:cw-1",
        payload=ReferralAccepted(
            referral_id=uuid4(),
            district="north",
            subject=WireSubject(nominal_id=NOMINAL, name=NAME, date_of_birth=BORN),
            order_sought="SRO",
            grounds="Synthetic grounds.",
            crime_references=["CR/1/26"],
            accepted_by="caseworker:cw-1",
        ),
    )


def test_a_wire_event_goes_sealed_and_only_a_consumer_with_the_key_reads_it() -> None:
    data, sent = personal(), accepted()
    key_id = data.key_for(NOMINAL)
    raw = sent.model_dump_json(context={SEAL: data.sealer(key_id)}).encode()
    topic = topic_of(ReferralAcceptedV1)

    kept = topic.parse(raw)
    opened = topic.parse(raw, data.open_json)
    data.erase(NOMINAL)
    erased = topic.parse(raw, data.open_json)

    assert not any(plain.encode() in raw for plain in (NAME, NOMINAL, "1981-05-04"))
    assert opened == sent
    assert pseudonym(kept.payload.subject.nominal_id) == str(key_id)  # type: ignore[attr-defined]
    assert erased.payload.subject.name == ERASED  # type: ignore[attr-defined]
    assert erased.payload.crime_references == [ERASED]  # type: ignore[attr-defined]


def test_an_altered_wire_event_fails_validation_and_goes_to_the_dead_letters() -> None:
    data = personal()
    raw = accepted().model_dump_json(context={SEAL: data.sealer(data.key_for(NOMINAL))})
    sealed_name = raw.split('"name":"')[1].split('"')[0]
    flipped = "B" if sealed_name[-12] == "A" else "A"
    altered = raw.replace(sealed_name, sealed_name[:-12] + flipped + sealed_name[-11:])

    with pytest.raises(ValidationError, match="altered"):
        topic_of(ReferralAcceptedV1).parse(altered.encode(), data.open_json)


def test_another_process_forgets_a_destroyed_key_when_told_or_when_its_cache_runs_out() -> None:
    table, keys, now = MemoryKeys(), master(1), [0.0]
    one = PersonalData(KeyStore(table, keys, b"lookup", clock=lambda: now[0]))
    told, untold = (KeyStore(table, keys, b"lookup", clock=lambda: now[0]) for _ in range(2))
    sealed = one.sealer(one.key_for(NOMINAL))(NAME)
    assert [PersonalData(s).open_json(sealed) for s in (told, untold)] == [NAME, NAME]

    told.forget(one.erase(NOMINAL))
    at_once = [PersonalData(s).open_json(sealed) for s in (told, untold)]
    now[0] += 6
    later = PersonalData(untold).open_json(sealed)

    assert at_once == [ERASED, NAME]  # `untold` still holds the key it opened
    assert later == ERASED


def test_the_keys_of_several_people_are_found_or_made_at_once() -> None:
    data = personal()
    known = data.key_for(NOMINAL)

    keys = data.keys_for([NOMINAL, "SYN-P-2", "SYN-P-3", "SYN-P-2"])

    assert keys[NOMINAL] == known and len(set(keys.values())) == 3
    with pytest.raises(PersonalDataErased):
        data.keys_for(["SYN-P-2", ERASED])


def test_a_value_sealed_again_for_the_same_event_is_the_same_text_and_for_another_is_not() -> None:
    data = personal()
    key_id = data.key_for(NOMINAL)
    event, other = uuid4().bytes, uuid4().bytes

    again = [data.sealer(key_id, event)(NAME) for _ in range(2)]
    elsewhere = data.sealer(key_id, other)(NAME)
    unplaced = [data.sealer(key_id)(NAME) for _ in range(2)]

    assert again[0] == again[1] != elsewhere
    assert unplaced[0] != unplaced[1]
    assert {data.open_json(sealed) for sealed in [*again, elsewhere, *unplaced]} == {NAME}


def test_what_is_read_of_an_erased_person_is_written_again_as_it_reads() -> None:
    data = personal()

    assert data.sealed_for(ERASED, ERASED) == ERASED
    assert data.open_json(data.sealed_for(NOMINAL, NOMINAL)) == NOMINAL


def test_aggregates_kept_in_memory_go_when_a_key_is_forgotten_and_when_they_are_old() -> None:
    now = [0.0]
    keys = KeyStore(MemoryKeys(), master(1), b"lookup", clock=lambda: now[0])
    recent = RecentAggregates(size=2, seconds=30, clock=lambda: now[0])
    keys.also_forget(recent.clear)
    first, second, third = (uuid4() for _ in range(3))
    recent.put(first, {"name": NAME})

    handed = recent.get(first)
    handed["name"] = "changed by a command"
    kept = recent.get(first)
    keys.forget(uuid4())  # another process destroyed someone's key
    with pytest.raises(KeyError):
        recent.get(first)
    for aggregate_id in (first, second, third):
        recent.put(aggregate_id, {"name": NAME})
    now[0] += 31
    with pytest.raises(KeyError):
        recent.get(third)

    assert kept == {"name": NAME}  # each get is a copy of what was loaded
    assert list(recent.kept) == [second]  # the least lately used went first; the old one too


def test_an_aggregate_being_saved_is_handed_out_by_nobody_until_its_save_is_over() -> None:
    recent = RecentAggregates(size=10, seconds=30)
    alert = uuid4()
    recent.put(alert, SimpleNamespace(version=1))

    recent.saving([alert])  # stored and heard of a moment before its thread keeps it
    with pytest.raises(KeyError):
        recent.get(alert)  # so read from the store, which may hold the save already
    recent.put(alert, SimpleNamespace(version=1))  # read by another thread meanwhile
    recent.saved([alert])
    with pytest.raises(KeyError):
        recent.get(alert)  # nothing read while it was being saved was kept
    recent.put(alert, SimpleNamespace(version=2))  # what the save stored
    recent.put(alert, SimpleNamespace(version=1))  # a read from before it, kept late

    assert recent.get(alert).version == 2  # never an older version over a newer one


def test_what_is_kept_in_memory_changes_only_when_a_unit_of_work_takes_it_over() -> None:
    now = [0.0]
    recent = RecentAggregates(size=10, seconds=30, clock=lambda: now[0])
    loaded, owned, old = uuid4(), uuid4(), uuid4()
    recent.keep(old, {"name": NAME})
    now[0] += 31
    aggregate = {"name": NAME}
    recent.put(loaded, aggregate)  # as the library's repository does, before handing it out
    aggregate["name"] = "changed by a command that then failed to save"
    unit_owned = {"name": NAME}
    recent.keep(owned, unit_owned)

    taken = recent.get(owned, evict=True)

    assert recent.get(loaded) == {"name": NAME}  # a put keeps a copy
    assert taken is unit_owned and owned not in recent.kept  # handed over, kept no more
    with pytest.raises(KeyError):
        recent.get(old, evict=True)  # too old to hand over, even to a unit of work


class CountingKeys(MemoryKeys):
    """A key table that counts the reads of keys a process asks it for."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, key_ids: Collection[UUID]) -> dict[UUID, StoredKey]:
        self.reads += 1
        return super().get(key_ids)


def test_the_keys_a_page_of_stored_events_needs_are_read_in_one_go() -> None:
    """As a batch's aggregates are loaded: a process that has not opened these people's keys
    (another process sealed the events) reads them all at once, not one read a person."""
    table, keys = CountingKeys(), master(1)
    writer = PersonalData(KeyStore(table, keys, b"lookup"))
    mapper = SealingMapper(transcoder(), writer, PERSONAL)
    stored, written = [], []
    for number in range(5):
        referral = received(nominal=f"SYN-P-{number}")
        [event] = referral.collect_events()
        with sealing_with({referral.id: writer.key_for(f"SYN-P-{number}")}):
            stored.append(mapper.to_stored_event(event))
        written.append(event)
    reader = SealingMapper(transcoder(), PersonalData(KeyStore(table, keys, b"lookup")), PERSONAL)

    read = reader.to_domain_events(stored)

    assert table.reads == 1
    assert [vars(r) for r in read] == [vars(w) for w in written]


def test_rows_listed_are_revealed_with_the_keys_they_need_read_in_one_go() -> None:
    """As a route lists a page of a read model: each row's sealed values opened, whatever
    holds them, and the people's keys (sealed by another process) read at once."""
    table, keys = CountingKeys(), master(1)
    writer = PersonalData(KeyStore(table, keys, b"lookup"))
    nominals = [f"SYN-P-{number}" for number in range(5)]
    rows = [
        {"nominal": writer.sealed_for(n, n), "score": 9, "at": datetime(2026, 1, 2, tzinfo=UTC),
         "fired": ["child victim", writer.sealed_for(n, ["a", 1])], "id": uuid4(), "none": None}
        for n in nominals
    ]  # fmt: skip
    reader = PersonalData(KeyStore(table, keys, b"lookup"))

    revealed = reader.reveal(rows)

    assert table.reads == 1
    assert [r["nominal"] for r in revealed] == nominals
    assert [r["fired"] for r in revealed] == [["child victim", ["a", 1]]] * 5
    assert [(r["score"], r["at"], r["id"], r["none"]) for r in revealed] == [
        (r["score"], r["at"], r["id"], None) for r in rows
    ]
