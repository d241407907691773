"""`/v1/kbs`: knowledge bases (create, list, get, modify, delete) and their files.

A key with a knowledge-base allow-list lists only those knowledge bases, gets chat's 403 for
any other id on every route, and may not create one (it could never be on the list).
"""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter

from ..accounting.gate import kb_refused
from ..knowledge.catalog import KbRecord, LinkRecord
from ..knowledge.service import UnknownIds
from ..protocol.errors import ErrorResponse
from ..protocol.kbs import (
    FileIds,
    KbStatus,
    KnowledgeBaseCreate,
    KnowledgeBaseDeleted,
    KnowledgeBaseFile,
    KnowledgeBaseFileList,
    KnowledgeBaseList,
    KnowledgeBaseModify,
    KnowledgeBaseObject,
    SplitConfigOut,
)
from .deps import KeyDep
from .knowledge_deps import KbKeyDep, KnowledgeDep

router = APIRouter()
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404)
}


def kb_object(kb: KbRecord) -> KnowledgeBaseObject:
    split = SplitConfigOut(
        chunk_max_len=kb.split.chunk_max_len,
        chunk_overlap_len=kb.split.chunk_overlap_len,
        separators=list(kb.split.separators) if kb.custom_separators else None,
    )
    return KnowledgeBaseObject(
        id=kb.id,
        name=kb.name,
        description=kb.description,
        split_type=kb.split_type,
        split_config=split,
        file_ids=[link.file_id for link in kb.files],
        status=cast(KbStatus, kb.status),
        created_at=int(kb.created_at.timestamp()),
    )


def kb_file(link: LinkRecord) -> KnowledgeBaseFile:
    return KnowledgeBaseFile(
        id=link.file_id,
        kb_id=link.kb_id,
        filename=link.filename,
        bytes=link.size,
        status=cast(KbStatus, link.status),
        reason=link.reason,
        chunks=link.chunks,
        created_at=int(link.created_at.timestamp()),
    )


@router.post("/v1/kbs", response_model=KnowledgeBaseObject, responses=_ERRORS)
async def create_kb(
    body: KnowledgeBaseCreate, key: KeyDep, knowledge: KnowledgeDep
) -> KnowledgeBaseObject:
    if key.allowed_kbs is not None:
        raise kb_refused(
            "This key is not allowed to create knowledge bases: it may use only those on its list."
        )
    split = body.split_config
    kb = await knowledge.create_kb(
        key.owner,
        body.name,
        body.description,
        body.split_type,
        chunk_max_len=split.chunk_max_len,
        chunk_overlap_len=split.chunk_overlap_len,
        separators=split.separators,
    )
    return kb_object(kb)


@router.get("/v1/kbs", response_model=KnowledgeBaseList, responses=_ERRORS)
async def list_kbs(key: KeyDep, knowledge: KnowledgeDep) -> KnowledgeBaseList:
    kbs = await knowledge.kbs(key.owner)
    if key.allowed_kbs is not None:
        kbs = [kb for kb in kbs if kb.id in key.allowed_kbs]
    return KnowledgeBaseList(data=[kb_object(kb) for kb in kbs])


@router.get("/v1/kbs/{kb_id}", response_model=KnowledgeBaseObject, responses=_ERRORS)
async def get_kb(kb_id: str, key: KbKeyDep, knowledge: KnowledgeDep) -> KnowledgeBaseObject:
    return kb_object(await knowledge.kb(key.owner, kb_id))


@router.post("/v1/kbs/{kb_id}", response_model=KnowledgeBaseObject, responses=_ERRORS)
async def modify_kb(
    kb_id: str, body: KnowledgeBaseModify, key: KbKeyDep, knowledge: KnowledgeDep
) -> KnowledgeBaseObject:
    return kb_object(await knowledge.update_kb(key.owner, kb_id, body.name, body.description))


@router.delete("/v1/kbs/{kb_id}", response_model=KnowledgeBaseDeleted, responses=_ERRORS)
async def delete_kb(kb_id: str, key: KbKeyDep, knowledge: KnowledgeDep) -> KnowledgeBaseDeleted:
    await knowledge.delete_kb(key.owner, kb_id)
    return KnowledgeBaseDeleted(id=kb_id)


@router.post("/v1/kbs/{kb_id}/files", response_model=KnowledgeBaseObject, responses=_ERRORS)
async def attach_files(
    kb_id: str, body: FileIds, key: KbKeyDep, knowledge: KnowledgeDep
) -> KnowledgeBaseObject:
    return kb_object(await knowledge.attach(key.owner, kb_id, body.file_ids, kbs=key.allowed_kbs))


@router.get("/v1/kbs/{kb_id}/files", response_model=KnowledgeBaseFileList, responses=_ERRORS)
async def list_kb_files(
    kb_id: str, key: KbKeyDep, knowledge: KnowledgeDep
) -> KnowledgeBaseFileList:
    return KnowledgeBaseFileList(
        data=[kb_file(f) for f in await knowledge.kb_files(key.owner, kb_id)]
    )


@router.delete("/v1/kbs/{kb_id}/files", response_model=KnowledgeBaseObject, responses=_ERRORS)
async def detach_files(
    kb_id: str, body: FileIds, key: KbKeyDep, knowledge: KnowledgeDep
) -> KnowledgeBaseObject:
    await knowledge.detach(key.owner, kb_id, body.file_ids)
    return kb_object(await knowledge.kb(key.owner, kb_id))


@router.delete(
    "/v1/kbs/{kb_id}/files/{file_id}", response_model=KnowledgeBaseObject, responses=_ERRORS
)
async def detach_file(
    kb_id: str, file_id: str, key: KbKeyDep, knowledge: KnowledgeDep
) -> KnowledgeBaseObject:
    if not await knowledge.detach(key.owner, kb_id, [file_id]):
        raise UnknownIds("file", [file_id])
    return kb_object(await knowledge.kb(key.owner, kb_id))
