"""Signed checkpoints: the head of the event-store chain (and of the access log) at a moment,
signed with the radar's Ed25519 checkpoint key.

Each checkpoint names the hash of the one before it, so checkpoints form a chain of their own; a
copy on a Kafka topic lets an auditor notice checkpoints removed from the database too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, Text

from services.audit import keys
from services.audit.chain import GENESIS

FORMAT = "radar.audit.checkpoint.v1"

metadata = MetaData()

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("notification_id", BigInteger, nullable=False, index=True),
    Column("body", Text, nullable=False),
    Column("signature", String(128), nullable=False),
    # Two sealers racing for the same place cannot fork the checkpoint chain.
    Column("previous", String(64), nullable=False, unique=True),
    Column("published_at", DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class Checkpoint:
    """One signed checkpoint: the exact body that was signed, and its signature."""

    body: str
    signature: str

    @property
    def content(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed

    @property
    def store(self) -> str:
        return str(self.content.get("store"))

    @property
    def seq(self) -> int:
        return int(self.content["seq"])

    @property
    def notification_id(self) -> int:
        return int(self.content["events"]["notification_id"])

    def digest(self) -> str:
        """What the next checkpoint names as its predecessor."""
        return hashlib.sha256(self.body.encode()).hexdigest()

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        return keys.signature_valid(public_key, self.body.encode(), self.signature)

    def message(self) -> bytes:
        """The Kafka record value."""
        return orjson.dumps({"body": self.body, "signature": self.signature})

    @classmethod
    def from_message(cls, value: bytes) -> Checkpoint:
        parsed = orjson.loads(value)
        return cls(body=str(parsed["body"]), signature=str(parsed["signature"]))


def new_checkpoint(
    signing_key: Ed25519PrivateKey,
    store: str,
    seq: int,
    previous: Checkpoint | None,
    notification_id: int,
    records: int,
    chain_hash: str,
    access_log_head: tuple[int, str] | None,
    sealed_at: datetime,
    restore: dict[str, Any] | None = None,
) -> Checkpoint:
    """Signs the chain heads as they are now; the first checkpoint of a restored store also
    signs its lineage (`restore`: services/audit/lineage.py), other checkpoints have none."""
    content = {
        "format": FORMAT,
        "store": store,
        "seq": seq,
        "previous": GENESIS if previous is None else previous.digest(),
        "sealed_at": sealed_at.isoformat(),
        "key_id": keys.key_id(signing_key.public_key()),
        "events": {
            "notification_id": notification_id,
            "records": records,
            "chain_hash": chain_hash,
        },
        "access_log": None
        if access_log_head is None
        else {"seq": access_log_head[0], "entry_hash": access_log_head[1]},
    }
    if restore is not None:
        content["restore"] = restore
    body = orjson.dumps(content, option=orjson.OPT_SORT_KEYS).decode()
    return Checkpoint(body, keys.sign(signing_key, body.encode()))
