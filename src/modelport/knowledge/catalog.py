"""Files, knowledge bases and attachments in the database, always scoped to an owner."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..storage.db import Database
from ..storage.knowledge_tables import KnowledgeBase, KnowledgeBaseFile, StoredFile
from ..storage.tables import utcnow
from .chunk import DEFAULT_SEPARATORS, SplitConfig

_ALPHABET = string.ascii_letters + string.digits
IN_PROGRESS = ("init", "parsing")


def new_id(prefix: str) -> str:
    """Baichuan-style ids: `file-` / `kb-` and 24 letters or digits."""
    return f"{prefix}-" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: str
    owner: str
    filename: str
    purpose: str
    content_type: str | None
    size: int
    sha256: str
    created_at: datetime

    @classmethod
    def of(cls, row: StoredFile) -> FileRecord:
        return cls(
            row.id,
            row.owner,
            row.filename,
            row.purpose,
            row.content_type,
            row.size,
            row.sha256,
            row.created_at,
        )


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """A file attached to a knowledge base, with its ingestion status."""

    kb_id: str
    file_id: str
    filename: str
    size: int
    status: str
    reason: str | None
    chunks: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KbRecord:
    id: str
    owner: str
    name: str
    description: str
    split_type: str
    split: SplitConfig
    custom_separators: bool
    created_at: datetime
    files: tuple[LinkRecord, ...] = ()

    @property
    def status(self) -> str:
        """Derived from the files: `parsing` while any is in progress (`init` if none has
        started), `fail` when every file failed, otherwise `online`. An empty knowledge base
        is `init`: nothing in it can be searched yet, so a client waiting for `online`
        before asking does not ask an empty one."""
        states = {link.status for link in self.files}
        if not states:
            return "init"
        if states & set(IN_PROGRESS):
            return "init" if states == {"init"} else "parsing"
        if states == {"fail"}:
            return "fail"
        return "online"


def _kb(row: KnowledgeBase, links: Sequence[LinkRecord] = ()) -> KbRecord:
    separators = tuple(json.loads(row.separators)) if row.separators else DEFAULT_SEPARATORS
    split = SplitConfig(row.chunk_max_len, row.chunk_overlap_len, separators)
    return KbRecord(
        row.id,
        row.owner,
        row.name,
        row.description,
        row.split_type,
        split,
        row.separators is not None,
        row.created_at,
        tuple(links),
    )


class KnowledgeCatalog:
    """Metadata reads and writes; bytes and chunks are other objects' business."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- files ----------------------------------------------------------------------------

    async def add_file(self, record: FileRecord) -> None:
        async with self._db.sessions() as session:
            session.add(
                StoredFile(
                    id=record.id,
                    owner=record.owner,
                    filename=record.filename,
                    purpose=record.purpose,
                    content_type=record.content_type,
                    size=record.size,
                    sha256=record.sha256,
                    created_at=record.created_at,
                )
            )
            await session.commit()

    async def get_file(self, owner: str, file_id: str) -> FileRecord | None:
        async with self._db.sessions() as session:
            row = await session.get(StoredFile, file_id)
        return FileRecord.of(row) if row is not None and row.owner == owner else None

    async def list_files(self, owner: str) -> list[FileRecord]:
        query = select(StoredFile).where(StoredFile.owner == owner).order_by(StoredFile.created_at)
        async with self._db.sessions() as session:
            rows = (await session.scalars(query)).all()
        return [FileRecord.of(row) for row in rows]

    async def delete_file(self, owner: str, file_id: str) -> tuple[FileRecord, list[str]] | None:
        """Remove a file and its attachments; returns it and the knowledge bases it was in."""
        async with self._db.sessions() as session, session.begin():
            row = await session.get(StoredFile, file_id)
            if row is None or row.owner != owner:
                return None
            kb_ids = (
                await session.scalars(
                    select(KnowledgeBaseFile.kb_id).where(KnowledgeBaseFile.file_id == file_id)
                )
            ).all()
            await session.execute(
                delete(KnowledgeBaseFile).where(KnowledgeBaseFile.file_id == file_id)
            )
            record = FileRecord.of(row)
            await session.delete(row)
        return record, list(kb_ids)

    async def attachments(
        self, owner: str, file_ids: Sequence[str] | None = None
    ) -> dict[str, set[str]]:
        """The knowledge bases each of the owner's attached files (among `file_ids`) is in."""
        query = (
            select(KnowledgeBaseFile.file_id, KnowledgeBaseFile.kb_id)
            .join(StoredFile, StoredFile.id == KnowledgeBaseFile.file_id)
            .where(StoredFile.owner == owner)
        )
        if file_ids is not None:
            query = query.where(KnowledgeBaseFile.file_id.in_(list(file_ids)))
        out: dict[str, set[str]] = {}
        async with self._db.sessions() as session:
            for file_id, kb_id in (await session.execute(query)).all():
                out.setdefault(file_id, set()).add(kb_id)
        return out

    async def digest_in_use(self, sha256: str) -> bool:
        query = select(StoredFile.id).where(StoredFile.sha256 == sha256).limit(1)
        async with self._db.sessions() as session:
            return (await session.scalar(query)) is not None

    # --- knowledge bases ------------------------------------------------------------------

    async def create_kb(
        self, owner: str, name: str, description: str, split_type: str, split: SplitConfig
    ) -> KbRecord:
        custom = split.separators != DEFAULT_SEPARATORS
        row = KnowledgeBase(
            id=new_id("kb"),
            owner=owner,
            name=name,
            description=description,
            split_type=split_type,
            chunk_max_len=split.chunk_max_len,
            chunk_overlap_len=split.chunk_overlap_len,
            separators=json.dumps(list(split.separators), ensure_ascii=False) if custom else None,
            created_at=utcnow(),
        )
        async with self._db.sessions() as session:
            session.add(row)
            await session.commit()
        return _kb(row)

    async def get_kb(self, owner: str, kb_id: str) -> KbRecord | None:
        kbs = await self._kbs(owner, [kb_id])
        return kbs[0] if kbs else None

    async def list_kbs(self, owner: str) -> list[KbRecord]:
        return await self._kbs(owner, None)

    async def owned_kbs(self, owner: str, kb_ids: Sequence[str]) -> list[KbRecord]:
        """The knowledge bases among `kb_ids` that exist and belong to `owner`."""
        return await self._kbs(owner, kb_ids) if kb_ids else []

    async def _kbs(self, owner: str, kb_ids: Sequence[str] | None) -> list[KbRecord]:
        query = select(KnowledgeBase).where(KnowledgeBase.owner == owner)
        if kb_ids is not None:
            query = query.where(KnowledgeBase.id.in_(list(kb_ids)))
        async with self._db.sessions() as session:
            rows = (await session.scalars(query.order_by(KnowledgeBase.created_at))).all()
            links = await self._links(session, [row.id for row in rows])
        return [_kb(row, links.get(row.id, [])) for row in rows]

    async def _links(self, session: AsyncSession, kb_ids: list[str]) -> dict[str, list[LinkRecord]]:
        if not kb_ids:
            return {}
        query = (
            select(KnowledgeBaseFile, StoredFile.filename, StoredFile.size)
            .join(StoredFile, StoredFile.id == KnowledgeBaseFile.file_id)
            .where(KnowledgeBaseFile.kb_id.in_(kb_ids))
            .order_by(KnowledgeBaseFile.created_at, KnowledgeBaseFile.file_id)
        )
        out: dict[str, list[LinkRecord]] = {}
        for link, filename, size in (await session.execute(query)).all():
            out.setdefault(link.kb_id, []).append(
                LinkRecord(
                    link.kb_id,
                    link.file_id,
                    filename,
                    size,
                    link.status,
                    link.reason,
                    link.chunks,
                    link.created_at,
                )
            )
        return out

    async def update_kb(
        self, owner: str, kb_id: str, name: str | None, description: str | None
    ) -> KbRecord | None:
        values: dict[str, str] = {}
        if name is not None:
            values["name"] = name
        if description is not None:
            values["description"] = description
        if values:
            async with self._db.sessions() as session, session.begin():
                await session.execute(
                    update(KnowledgeBase)
                    .where(KnowledgeBase.id == kb_id, KnowledgeBase.owner == owner)
                    .values(**values)
                )
        return await self.get_kb(owner, kb_id)

    async def delete_kb(self, owner: str, kb_id: str) -> bool:
        async with self._db.sessions() as session, session.begin():
            row = await session.get(KnowledgeBase, kb_id)
            if row is None or row.owner != owner:
                return False
            await session.execute(delete(KnowledgeBaseFile).where(KnowledgeBaseFile.kb_id == kb_id))
            await session.delete(row)
        return True

    # --- attachments and ingestion status -------------------------------------------------

    async def attach(self, kb_id: str, file_ids: Sequence[str]) -> list[str]:
        """Attach files (ownership already checked); returns those that need ingesting:
        the newly attached ones and earlier failures, which get another try."""
        now = utcnow()
        queued: list[str] = []
        async with self._db.sessions() as session, session.begin():
            for position, file_id in enumerate(dict.fromkeys(file_ids)):
                link = await session.get(KnowledgeBaseFile, (kb_id, file_id))
                if link is None:
                    # A microsecond apart, so listings keep the order the files were given in.
                    at = now + timedelta(microseconds=position)
                    session.add(
                        KnowledgeBaseFile(
                            kb_id=kb_id,
                            file_id=file_id,
                            status="init",
                            reason=None,
                            chunks=0,
                            created_at=at,
                            updated_at=at,
                        )
                    )
                elif link.status == "fail":
                    link.status, link.reason, link.updated_at = "init", None, now
                else:
                    continue
                queued.append(file_id)
        return queued

    async def detach(self, kb_id: str, file_ids: Sequence[str]) -> list[str]:
        """Detach files; returns the ids that were attached."""
        condition = (KnowledgeBaseFile.kb_id == kb_id) & KnowledgeBaseFile.file_id.in_(
            list(file_ids)
        )
        async with self._db.sessions() as session, session.begin():
            found = (
                await session.scalars(select(KnowledgeBaseFile.file_id).where(condition))
            ).all()
            await session.execute(delete(KnowledgeBaseFile).where(condition))
        return list(found)

    async def set_status(
        self, kb_id: str, file_id: str, status: str, *, reason: str | None = None, chunks: int = 0
    ) -> bool:
        """Move an attachment to `status`; False when it no longer exists (detached)."""
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(
                update(KnowledgeBaseFile)
                .where(KnowledgeBaseFile.kb_id == kb_id, KnowledgeBaseFile.file_id == file_id)
                .values(status=status, reason=reason, chunks=chunks, updated_at=utcnow())
            )
        return bool(getattr(result, "rowcount", 0))

    async def pending(self) -> list[tuple[str, str, str]]:
        """Attachments left in `init` or `parsing` (e.g. by a restart), oldest first, as
        (owner, kb_id, file_id): the queue takes owners in turn."""
        query = (
            select(KnowledgeBase.owner, KnowledgeBaseFile.kb_id, KnowledgeBaseFile.file_id)
            .join(KnowledgeBase, KnowledgeBase.id == KnowledgeBaseFile.kb_id)
            .where(KnowledgeBaseFile.status.in_(IN_PROGRESS))
            .order_by(KnowledgeBaseFile.updated_at)
        )
        async with self._db.sessions() as session:
            rows = (await session.execute(query)).all()
        return [(owner, kb_id, file_id) for owner, kb_id, file_id in rows]

    async def job(self, kb_id: str, file_id: str) -> tuple[FileRecord, SplitConfig] | None:
        """What ingesting an attachment needs: the file and its knowledge base's split."""
        async with self._db.sessions() as session:
            link = await session.get(KnowledgeBaseFile, (kb_id, file_id))
            kb = await session.get(KnowledgeBase, kb_id)
            stored = await session.get(StoredFile, file_id)
        if link is None or kb is None or stored is None:
            return None
        return FileRecord.of(stored), _kb(kb).split
