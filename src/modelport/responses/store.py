"""Stored responses, per owner: what `previous_response_id`, `GET` and `DELETE` read.

Each row keeps the whole input its response answered, so a conversation is one read however
long its chain, and goes on working after an earlier response of it is deleted. Another
owner's response is "not found", never "forbidden": ids are not confirmed to strangers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete

from ..protocol.errors import APIError
from ..protocol.response_objects import ResponseObject
from ..protocol.responses import InputItem
from ..storage.db import Database
from ..storage.response_tables import StoredResponse
from .request import ITEMS


def not_found(response_id: str, param: str | None = None) -> APIError:
    code = "previous_response_not_found" if param else "response_not_found"
    return APIError(404, f"No response found with id '{response_id}'.", param=param, code=code)


@dataclass(frozen=True)
class Stored:
    input_items: list[dict[str, Any]]
    response: bytes  # the response object's JSON

    def conversation(self) -> list[InputItem]:
        """Its input, then its output, as the input items of the next turn."""
        output = json.loads(self.response).get("output", [])
        return ITEMS.validate_python([*self.input_items, *output])


class ResponseStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, owner: str, response_id: str) -> Stored | None:
        async with self._db.sessions() as session:
            row = await session.get(StoredResponse, response_id)
        if row is None or row.owner != owner:
            return None
        return Stored(json.loads(row.input_items), row.response.encode())

    async def history(self, owner: str, response_id: str) -> list[InputItem]:
        """The conversation up to and including a response (`previous_response_id`)."""
        stored = await self.get(owner, response_id)
        if stored is None:
            raise not_found(response_id, param="previous_response_id")
        return stored.conversation()

    async def save(
        self, owner: str, input_items: list[dict[str, Any]], response: ResponseObject
    ) -> None:
        row = StoredResponse(
            id=response.id,
            owner=owner,
            model=response.model,
            input_items=json.dumps(input_items, ensure_ascii=False, separators=(",", ":")),
            response=response.model_dump_json(),
        )
        async with self._db.sessions() as session, session.begin():
            session.add(row)

    async def delete(self, owner: str, response_id: str) -> bool:
        statement = delete(StoredResponse).where(
            StoredResponse.id == response_id, StoredResponse.owner == owner
        )
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(statement)
        return bool(getattr(result, "rowcount", 0))
