"""`/v1/files`: upload (multipart `file` + `purpose`), list, get, delete, download, parsed text.

A key with a knowledge-base allow-list sees the files in those knowledge bases and the owner's
files in none; deleting a file also in another knowledge base is refused (403).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Response, UploadFile

from ..knowledge.catalog import FileRecord
from ..protocol.errors import APIError, ErrorResponse
from ..protocol.files import FileDeleted, FileList, FileObject, FilePurpose, ParsedContent
from .deps import KeyDep, ServicesDep
from .knowledge_deps import KnowledgeDep

router = APIRouter()
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413)
}
_READ_SIZE = 1024 * 1024


def file_object(record: FileRecord) -> FileObject:
    return FileObject(
        id=record.id,
        bytes=record.size,
        created_at=int(record.created_at.timestamp()),
        filename=record.filename,
        purpose=record.purpose,
    )


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes; 413 as soon as they pass `limit`."""
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_READ_SIZE):
        size += len(chunk)
        if size > limit:
            raise APIError(
                413, f"The file exceeds the limit of {limit} bytes.", code="file_too_large"
            )
        parts.append(chunk)
    return b"".join(parts)


@router.post("/v1/files", response_model=FileObject, responses=_ERRORS)
async def upload_file(
    file: Annotated[UploadFile, File()],
    purpose: Annotated[FilePurpose, Form()],
    key: KeyDep,
    knowledge: KnowledgeDep,
    services: ServicesDep,
) -> FileObject:
    data = await read_limited(file, services.settings.max_file_bytes)
    record = await knowledge.upload(key.owner, file.filename, file.content_type, purpose, data)
    return file_object(record)


@router.get("/v1/files", response_model=FileList, responses=_ERRORS)
async def list_files(key: KeyDep, knowledge: KnowledgeDep) -> FileList:
    return FileList(
        data=[file_object(r) for r in await knowledge.files(key.owner, kbs=key.allowed_kbs)]
    )


@router.get("/v1/files/{file_id}", response_model=FileObject, responses=_ERRORS)
async def get_file(file_id: str, key: KeyDep, knowledge: KnowledgeDep) -> FileObject:
    return file_object(await knowledge.file(key.owner, file_id, kbs=key.allowed_kbs))


@router.delete("/v1/files/{file_id}", response_model=FileDeleted, responses=_ERRORS)
async def delete_file(file_id: str, key: KeyDep, knowledge: KnowledgeDep) -> FileDeleted:
    await knowledge.delete_file(key.owner, file_id, kbs=key.allowed_kbs)
    return FileDeleted(id=file_id)


@router.get("/v1/files/{file_id}/content", responses=_ERRORS)
async def file_content(file_id: str, key: KeyDep, knowledge: KnowledgeDep) -> Response:
    record, data = await knowledge.content(key.owner, file_id, kbs=key.allowed_kbs)
    # Always a download: serving a client-declared type (text/html) could run it as a page.
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(record.filename)}",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type="application/octet-stream", headers=headers)


@router.get("/v1/files/{file_id}/parsed-content", response_model=ParsedContent, responses=_ERRORS)
async def parsed_content(file_id: str, key: KeyDep, knowledge: KnowledgeDep) -> ParsedContent:
    record, text = await knowledge.parsed_content(key.owner, file_id, kbs=key.allowed_kbs)
    return ParsedContent(id=record.id, filename=record.filename, content=text)
