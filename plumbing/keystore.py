"""Each person's key, kept apart from the event stores, wrapped by a master key.

A person (a nominal) gets a random 256-bit AES key the first time any service stores
something about them. The key store holds it wrapped (AES-GCM under the newest master key,
bound to its key id) beside the version of the master key that wrapped it, and finds it by a
keyed hash of the nominal, so the store lists no nominals. Destroying a person's key deletes
that row: nothing sealed with the key can be opened again, wherever a copy of it went.
Rotation re-wraps every key under the newest master key, after which older master keys can
be retired (and with them whatever old backups of this store hold).
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


class BadMasterKeys(ValueError):
    def __init__(self, why: str) -> None:
        super().__init__(
            f"{why}: give VERSION:BASE64 pairs, each a 32-byte key, separated by commas"
        )


class MasterKeyMissing(LookupError):
    def __init__(self, version: int) -> None:
        super().__init__(
            f"a key is wrapped by master key {version}, which PERSONAL_DATA_MASTER_KEYS does "
            "not give this process: keep it there until `civil-orders keys rotate` has run"
        )


@dataclass(frozen=True)
class MasterKeys:
    """The master keys by version; the newest wraps new keys, the others only unwrap."""

    by_version: Mapping[int, bytes]

    @classmethod
    def parse(cls, text: str) -> "MasterKeys":
        by_version = {}
        for pair in filter(None, (p.strip() for p in text.split(","))):
            version, _, encoded = pair.partition(":")
            try:
                key = base64.b64decode(encoded, validate=True)
                by_version[int(version)] = key
            except (ValueError, binascii.Error):
                raise BadMasterKeys(f"{pair[:8]}… is not VERSION:BASE64") from None
            if len(key) != KEY_BYTES:
                raise BadMasterKeys(f"master key {version} is {len(key)} bytes, not 32")
        if not by_version:
            raise BadMasterKeys("no master key")
        return cls(by_version)

    @property
    def current(self) -> int:
        return max(self.by_version)

    def wrap(self, key_id: UUID, key: bytes) -> tuple[int, bytes]:
        version = self.current
        nonce = os.urandom(NONCE_BYTES)
        master = AESGCM(self.by_version[version])
        return version, nonce + master.encrypt(nonce, key, key_id.bytes)

    def unwrap(self, stored: "StoredKey") -> bytes:
        if stored.master_version not in self.by_version:
            raise MasterKeyMissing(stored.master_version)
        master = AESGCM(self.by_version[stored.master_version])
        nonce, sealed = stored.wrapped[:NONCE_BYTES], stored.wrapped[NONCE_BYTES:]
        return master.decrypt(nonce, sealed, stored.key_id.bytes)


class PersonKey:
    """A person's key, opened. It seals under a random nonce, or under one derived from the
    value and where it goes (a synthetic nonce), so that sealing the same value for the same
    place again gives the same text: a wire event made again from the history is the same
    message."""

    def __init__(self, key: bytes) -> None:
        self.aead = AESGCM(key)
        self._nonces = hmac.new(key, b"civil-orders: synthetic nonces", hashlib.sha256).digest()

    def nonce(self, plain: bytes, context: bytes | None = None) -> bytes:
        if context is None:
            return os.urandom(NONCE_BYTES)
        given = len(context).to_bytes(4, "big") + context + plain
        return hmac.new(self._nonces, given, hashlib.sha256).digest()[:NONCE_BYTES]


@dataclass(frozen=True)
class StoredKey:
    key_id: UUID
    wrapped: bytes
    master_version: int


class KeyTable(Protocol):
    """Where wrapped keys are kept: PostgreSQL, or memory for unit tests."""

    def find(self, lookup: bytes) -> StoredKey | None: ...
    def get(self, key_ids: Collection[UUID]) -> dict[UUID, StoredKey]: ...
    def keep(self, keys: Mapping[bytes, StoredKey]) -> dict[bytes, StoredKey]:
        """Keep each key for its lookup unless one is kept already (the first one stands);
        the keys kept, by lookup."""

    def destroy(self, key_id: UUID) -> None: ...
    def wrapped_before(self, version: int) -> list[StoredKey]: ...
    def rewrap(self, key: StoredKey) -> None: ...
    def watch(self, forget: Callable[[UUID | None], None]) -> None:
        """Call `forget(key_id)` when any process destroys a key, `forget(None)` when such
        news may have been missed."""

    def close(self) -> None: ...


class KeyStore:
    """Finds, makes, opens and destroys people's keys. Opened keys are kept in memory until
    the key store says a key was destroyed, and for `cache_seconds` at most (should that news
    be missed)."""

    def __init__(
        self,
        table: KeyTable,
        master: MasterKeys,
        lookup_secret: bytes,
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.table = table
        self.master = master
        self.lookup_secret = lookup_secret
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._ids: dict[str, tuple[float, UUID]] = {}
        self._ciphers: dict[UUID, tuple[float, PersonKey | None]] = {}
        self._also_forget: list[Callable[[], None]] = []
        table.watch(self.forget)

    def also_forget(self, drop: Callable[[], None]) -> None:
        """Call `drop` whenever a key is forgotten: for whatever else holds opened data."""
        self._also_forget.append(drop)

    def _lookup(self, nominal: str) -> bytes:
        return hmac.new(self.lookup_secret, nominal.encode(), hashlib.sha256).digest()

    def blinded(self, *parts: str) -> UUID:
        """An id named by a business key that is personal data (a court's case number, say),
        keyed with the lookup secret: a plain hash of it, tried against every likely value,
        would give the key away."""
        named = json.dumps(parts).encode()  # each part whole, whatever it holds
        return UUID(bytes=hmac.new(self.lookup_secret, named, hashlib.sha256).digest()[:16])

    def key_for(self, nominal: str) -> UUID:
        """The id of the person's key, made now if they have none."""
        return self.keys_for([nominal])[nominal]

    def keys_for(self, nominals: Iterable[str]) -> dict[str, UUID]:
        """The ids of these people's keys, those not yet known found or made at once."""
        found = {n: cached for n in nominals if (cached := self._fresh(self._ids.get(n)))}
        wanted: dict[bytes, tuple[str, StoredKey, bytes]] = {}
        for nominal in set(nominals) - found.keys():
            key_id, key = uuid4(), AESGCM.generate_key(KEY_BYTES * 8)  # kept if none is yet
            version, wrapped = self.master.wrap(key_id, key)
            wanted[self._lookup(nominal)] = (nominal, StoredKey(key_id, wrapped, version), key)
        if not wanted:
            return found
        kept = self.table.keep({lookup: made for lookup, (_, made, _) in wanted.items()})
        now = self.clock()
        for lookup, (nominal, made, key) in wanted.items():
            stored = kept[lookup]
            opened = key if stored.key_id == made.key_id else self.master.unwrap(stored)
            self._ids[nominal] = (now, stored.key_id)
            self._ciphers[stored.key_id] = (now, PersonKey(opened))
            found[nominal] = stored.key_id
        return found

    def find(self, nominal: str) -> UUID | None:
        stored = self.table.find(self._lookup(nominal))
        return stored.key_id if stored else None

    def opened(self, key_id: UUID) -> PersonKey | None:
        """The key, ready to use; None once destroyed (for good: ids are never reused)."""
        self.load([key_id])
        return self._ciphers[key_id][1]

    def load(self, key_ids: Iterable[UUID]) -> None:
        """Have these keys ready, those not yet at hand read at once."""
        wanted = {k for k in key_ids if not self._at_hand(k)}
        if not wanted:
            return
        stored = self.table.get(wanted)
        now = self.clock()
        for key_id in wanted:
            found = stored.get(key_id)
            self._ciphers[key_id] = (now, PersonKey(self.master.unwrap(found)) if found else None)

    def _at_hand(self, key_id: UUID) -> bool:
        cached = self._ciphers.get(key_id)
        return cached is not None and (cached[1] is None or self._fresh(cached) is not None)

    def destroy(self, nominal: str) -> UUID | None:
        """Destroy the person's key; the id it had, or None if they had none."""
        key_id = self.find(nominal)
        if key_id is not None:
            self.table.destroy(key_id)
            self.forget(key_id)
        self._ids.pop(nominal, None)
        return key_id

    def forget(self, key_id: UUID | None) -> None:
        """Stop using a destroyed key at once (None: forget every key, to look them up again)."""
        for drop in self._also_forget:
            drop()
        if key_id is None:
            self._ids.clear()
            self._ciphers.clear()
            return
        self._ciphers[key_id] = (self.clock(), None)
        for nominal, (_, cached) in list(self._ids.items()):
            if cached == key_id:
                self._ids.pop(nominal, None)

    def close(self) -> None:
        self.table.close()

    def rotate(self) -> int:
        """Re-wrap under the newest master key every key wrapped by an older one."""
        count = 0
        while older := self.table.wrapped_before(self.master.current):
            for stored in older:
                version, wrapped = self.master.wrap(stored.key_id, self.master.unwrap(stored))
                self.table.rewrap(StoredKey(stored.key_id, wrapped, version))
                count += 1
        return count

    def _fresh(self, cached: tuple[float, Any] | None) -> Any:
        if cached is None or self.clock() - cached[0] > self.cache_seconds:
            return None
        return cached[1]


class MemoryKeys:
    """A key table in memory: for unit tests."""

    def __init__(self) -> None:
        self.keys: dict[bytes, StoredKey] = {}

    def find(self, lookup: bytes) -> StoredKey | None:
        return self.keys.get(lookup)

    def get(self, key_ids: Collection[UUID]) -> dict[UUID, StoredKey]:
        return {k.key_id: k for k in self.keys.values() if k.key_id in key_ids}

    def keep(self, keys: Mapping[bytes, StoredKey]) -> dict[bytes, StoredKey]:
        return {lookup: self.keys.setdefault(lookup, key) for lookup, key in keys.items()}

    def destroy(self, key_id: UUID) -> None:
        self.keys = {k: v for k, v in self.keys.items() if v.key_id != key_id}

    def wrapped_before(self, version: int) -> list[StoredKey]:
        return [k for k in self.keys.values() if k.master_version < version]

    def rewrap(self, key: StoredKey) -> None:
        self.keys = {k: key if v.key_id == key.key_id else v for k, v in self.keys.items()}

    def watch(self, forget: Callable[[UUID | None], None]) -> None:
        """Only one process uses it: nothing to hear of."""

    def close(self) -> None:
        """Nothing to close."""
