"""A fake midjourney-proxy server (novicezk/midjourney-proxy's HTTP API, with the "plus"
servers' `/submit/action`, `/submit/modal` and `/submit/shorten`), after its published API.

- Every call needs `mj-api-secret: SECRET` (401 otherwise).
- Submissions answer `{code, description, properties, result}`: 1 submitted, 22 queued
  (`queued` mode), 23 queue full (`full` mode), 24 banned prompt (a prompt with "banned"),
  4 validation error, 3 "无可用的账号实例" (`no_account` mode, as the proxy says it).
- Tasks move only when the test says so (`progress`, `succeed`, `fail`); each change is
  POSTed to the task's `notifyHook` as the proxy does, unless `hooks` is off (a missed
  webhook). `list-by-condition` and `/task/{id}/fetch` answer them as they are.
- A finished IMAGINE/VARIATION/REROLL has U1–U4, 🔄 and V1–V4 buttons; an UPSCALE has Vary,
  Zoom Out and pan buttons; "Custom Zoom" opens a MODAL task that `/submit/modal` continues.
- Images: `GET /attachments/{id}.png`.
- `auto`: a task finishes the next time `list-by-condition` asks about it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.tiny_png import tiny_png

SECRET = "mj-upstream-secret-4b1d"
NO_ACCOUNT = "无可用的账号实例"


def _grid_buttons(digest: str) -> list[dict[str, Any]]:
    buttons = [
        {"customId": f"MJ::JOB::upsample::{i}::{digest}", "emoji": "", "label": f"U{i}"}
        for i in range(1, 5)
    ]
    buttons.append({"customId": f"MJ::JOB::reroll::0::{digest}::SOLO", "emoji": "🔄", "label": ""})
    buttons += [
        {"customId": f"MJ::JOB::variation::{i}::{digest}", "emoji": "", "label": f"V{i}"}
        for i in range(1, 5)
    ]
    return [b | {"type": 2, "style": 2} for b in buttons]


def _upscale_buttons(digest: str) -> list[dict[str, Any]]:
    buttons = [
        {"customId": f"MJ::JOB::high_variation::1::{digest}::SOLO", "label": "Vary (Strong)"},
        {"customId": f"MJ::Outpaint::50::1::{digest}::SOLO", "label": "Zoom Out 2x"},
        {"customId": f"MJ::CustomZoom::{digest}", "label": "Custom Zoom"},
        {"customId": f"MJ::JOB::pan_left::1::{digest}::SOLO", "label": "⬅️"},
    ]
    return [b | {"emoji": "", "type": 2, "style": 2} for b in buttons]


def _action(custom_id: str) -> str:
    if "::upsample::" in custom_id:
        return "UPSCALE"
    if "variation::" in custom_id:
        return "VARIATION"
    if "::reroll::" in custom_id:
        return "REROLL"
    if "::pan_" in custom_id:
        return "PAN"
    return "ZOOM"


@dataclass
class FakeMidjourney:
    mode: str = "ok"  # ok | queued | full | no_account
    hooks: bool = True
    auto: bool = False  # tasks finish when next asked about (for the docs' examples)
    base_url: str = ""  # set once served, for image URLs
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[tuple[str, str]] = field(default_factory=list)  # (hook, status)

    # -- the test's controls ------------------------------------------------------------
    def _notify(self, task: dict[str, Any]) -> None:
        hook = task["properties"].get("notifyHook")
        if not hook or not self.hooks:
            return
        httpx.post(hook, json=task, timeout=10)
        self.delivered.append((hook, task["status"]))

    def progress(self, task_id: str, percent: int) -> None:
        task = self.tasks[task_id]
        task.update(status="IN_PROGRESS", progress=f"{percent}%")
        task["startTime"] = task["startTime"] or int(time.time() * 1000)
        self._notify(task)

    def succeed(self, task_id: str) -> None:
        task = self.tasks[task_id]
        digest = secrets.token_hex(8)
        grid = task["action"] in ("IMAGINE", "VARIATION", "REROLL")
        task.update(
            status="SUCCESS",
            progress="100%",
            finishTime=int(time.time() * 1000),
            imageUrl=f"{self.base_url}/attachments/{task_id}.png",
            buttons=_grid_buttons(digest) if grid else _upscale_buttons(digest),
        )
        task["properties"].update(messageHash=digest, messageId=secrets.token_hex(6))
        self._notify(task)

    def fail(self, task_id: str, reason: str) -> None:
        task = self.tasks[task_id]
        task.update(status="FAILURE", failReason=reason, finishTime=int(time.time() * 1000))
        self._notify(task)

    # -- the protocol -----------------------------------------------------------------------
    def _new(self, action: str, body: dict[str, Any], **more: Any) -> dict[str, Any]:
        task_id = "".join(str(secrets.randbelow(10)) for _ in range(16))
        prompt = str(body.get("prompt") or "")
        task: dict[str, Any] = {
            "id": task_id,
            "action": action,
            "customId": "",
            "prompt": prompt,
            "promptEn": prompt,
            "description": f"/{action.lower()} {prompt}".strip(),
            "state": body.get("state"),
            "submitTime": int(time.time() * 1000),
            "startTime": None,
            "finishTime": None,
            "imageUrl": None,
            "status": "SUBMITTED",
            "progress": "0%",
            "failReason": None,
            "buttons": [],
            "properties": {
                "notifyHook": body.get("notifyHook"),
                "finalPrompt": prompt,
                "discordInstanceId": "1118138338562560102",
                "botType": body.get("botType", "MID_JOURNEY"),
            },
        } | more
        self.tasks[task_id] = task
        return task

    def _refusal(self) -> dict[str, Any] | None:
        if self.mode == "full":
            return {"code": 23, "description": "队列已满，请稍后尝试", "properties": {}}
        if self.mode == "no_account":
            return {"code": 3, "description": NO_ACCOUNT, "properties": {}}
        return None

    def _accepted(self, task: dict[str, Any]) -> dict[str, Any]:
        if self.mode == "queued":
            return {
                "code": 22,
                "description": "排队中，前面还有1个任务",
                "properties": {"numberOfQueues": 1},
                "result": task["id"],
            }
        return {"code": 1, "description": "提交成功", "properties": {}, "result": task["id"]}

    async def submit(self, request: Request) -> Response:
        if request.headers.get("mj-api-secret") != SECRET:
            return JSONResponse({"error": "Unauthorized"}, 401)
        kind = request.path_params["kind"]
        body = await request.json()
        self.submissions.append({"kind": kind, "body": body, "path": request.url.path})
        refused = self._refusal()
        if refused is not None:
            return JSONResponse(refused)
        if kind in ("imagine", "shorten"):
            prompt = str(body.get("prompt") or "")
            if not prompt.strip():
                return JSONResponse({"code": 4, "description": "prompt不能为空"})
            if "banned" in prompt:
                return JSONResponse({"code": 24, "description": "可能包含敏感词", "properties": {}})
            return JSONResponse(self._accepted(self._new(kind.upper(), body)))
        if kind in ("blend", "describe"):
            return JSONResponse(self._accepted(self._new(kind.upper(), body)))
        if kind == "modal":
            task = self.tasks.get(str(body.get("taskId")))
            if task is None or task["status"] != "MODAL":
                return JSONResponse({"code": 3, "description": "关联任务不存在或已失效"})
            task.update(status="SUBMITTED", prompt=body.get("prompt") or task["prompt"])
            return JSONResponse({"code": 1, "description": "提交成功", "result": task["id"]})
        return self._on_task(kind, body)

    def _on_task(self, kind: str, body: dict[str, Any]) -> Response:
        origin = self.tasks.get(str(body.get("taskId")))
        if origin is None:
            return JSONResponse({"code": 3, "description": "关联任务不存在或已失效"})
        if origin["status"] != "SUCCESS":
            return JSONResponse({"code": 4, "description": "关联任务状态错误"})
        if kind == "change":
            verb = {"UPSCALE": "upsample", "VARIATION": "variation", "REROLL": "reroll"}
            wanted = f"::{verb.get(str(body.get('action')), '?')}::"
            index = body.get("index") or 0
            match = [b for b in origin["buttons"] if wanted in b["customId"]]
            match = [
                b
                for b in match
                if body.get("action") == "REROLL" or f"::{index}::" in b["customId"]
            ]
            if not match:
                return JSONResponse({"code": 4, "description": "action参数错误"})
            custom_id = match[0]["customId"]
        else:
            custom_id = str(body.get("customId"))
            if custom_id not in {b["customId"] for b in origin["buttons"]}:
                return JSONResponse({"code": 4, "description": "customId参数错误"})
        fields = {"customId": custom_id, "prompt": origin["prompt"]}
        task = self._new(_action(custom_id), body | {"prompt": origin["prompt"]}, **fields)
        if "::CustomZoom::" in custom_id:
            task["status"] = "MODAL"
            return JSONResponse(
                {
                    "code": 21,
                    "description": "窗口等待",
                    "properties": {"status": "MODAL"},
                    "result": task["id"],
                }
            )
        return JSONResponse(self._accepted(task))

    async def list_by_condition(self, request: Request) -> Response:
        if request.headers.get("mj-api-secret") != SECRET:
            return JSONResponse({"error": "Unauthorized"}, 401)
        ids = (await request.json()).get("ids") or []
        found = [self.tasks[i] for i in ids if i in self.tasks]
        for task in found:
            if self.auto and task["status"] in ("SUBMITTED", "IN_PROGRESS"):
                self.hooks, hooks = False, self.hooks
                self.succeed(task["id"])
                self.hooks = hooks
        return JSONResponse(found)

    async def fetch(self, request: Request) -> Response:
        if request.headers.get("mj-api-secret") != SECRET:
            return JSONResponse({"error": "Unauthorized"}, 401)
        return JSONResponse(self.tasks.get(request.path_params["task_id"]))

    async def image_seed(self, request: Request) -> Response:
        if request.headers.get("mj-api-secret") != SECRET:
            return JSONResponse({"error": "Unauthorized"}, 401)
        task = self.tasks.get(request.path_params["task_id"])
        if task is None or task["status"] != "SUCCESS":
            return JSONResponse({"code": 3, "description": "任务不存在"})
        return JSONResponse({"code": 1, "description": "成功", "result": "3461357239"})

    async def attachment(self, request: Request) -> Response:
        task_id = request.path_params["name"].removesuffix(".png")
        if task_id not in self.tasks:
            return Response(status_code=404)
        return Response(tiny_png(len(task_id) + int(task_id[-2:])), media_type="image/png")

    def app(self) -> Starlette:
        routes = []
        for prefix in ("", "/mj-fast", "/mj-relax", "/mj-turbo"):
            routes += [
                Route(prefix + "/mj/submit/{kind}", self.submit, methods=["POST"]),
                Route(
                    prefix + "/mj/task/list-by-condition",
                    self.list_by_condition,
                    methods=["POST"],
                ),
                Route(prefix + "/mj/task/{task_id}/fetch", self.fetch),
                Route(prefix + "/mj/task/{task_id}/image-seed", self.image_seed),
            ]
        routes.append(Route("/attachments/{name}", self.attachment))
        return Starlette(routes=routes)
