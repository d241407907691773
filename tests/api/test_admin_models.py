"""`/admin/models`: a pulled model joins the catalogue at runtime, answers, leaves; runtime
models survive a restart, and the settings' catalogue wins a name at start-up."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from tests.support.server import run_server

from .local_models_support import (
    SMALL_ENGINE,
    admin,
    cards,
    catalogue,
    chat,
    client,
    loaded,
    pull_copies,
    wait_until,
)


def test_add_chat_delete_and_the_errors(tmp_path: Path) -> None:
    pull_copies(tmp_path, "alpha")
    config = {"models": catalogue(), "engine": SMALL_ENGINE}
    with run_server(tmp_path, config=config) as server, admin(server) as http:
        assert http.get("/admin/models").json() == {"object": "list", "data": []}
        added = http.post(
            "/admin/models", json={"name": "gamma", "model_path": "pulled:alpha", "keep_alive": 60}
        )
        assert added.status_code == 201, added.text
        assert added.json()["name"] == "gamma" and added.json()["keep_alive"] == 60
        assert cards(server)["gamma"]["loaded"] is False  # listed at once, loaded on use
        assert chat(server, "gamma")
        gamma = cards(server)["gamma"]
        assert gamma["loaded"] is True and gamma["owned_by"] == "modelport"

        again = http.post("/admin/models", json={"name": "gamma", "model_path": "pulled:alpha"})
        assert again.status_code == 409 and again.json()["error"]["code"] == "model_exists"
        missing = http.post("/admin/models", json={"name": "delta", "model_path": "pulled:nope"})
        assert missing.status_code == 404, missing.text
        assert missing.json()["error"]["code"] == "model_file_not_found"
        assert "nope" in missing.json()["error"]["message"]
        outside = http.post("/admin/models", json={"name": "d", "model_path": "/etc/passwd"})
        assert outside.status_code == 400
        assert outside.json()["error"]["code"] == "model_path_outside_store"
        escape = http.post("/admin/models", json={"name": "d", "model_path": "../modelport.db"})
        assert escape.status_code == 400
        by_path = http.post("/admin/models", json={"name": "by-path", "model_path": "alpha.gguf"})
        assert by_path.status_code == 201, by_path.text
        assert chat(server, "by-path")
        names = [m["name"] for m in http.get("/admin/models").json()["data"]]
        assert names == ["gamma", "by-path"]

        gone = http.delete("/admin/models/gamma")
        assert gone.status_code == 200 and gone.json()["name"] == "gamma"
        assert "gamma" not in cards(server)
        with pytest.raises(openai.NotFoundError):
            chat(server, "gamma")
        assert http.delete("/admin/models/gamma").status_code == 404
        yaml_model = http.delete("/admin/models/smollm2-135m-instruct")
        assert yaml_model.status_code == 404  # the settings' models are not the API's
        # by-path still serves alpha.gguf: its engine stays loaded
        assert loaded(server)["by-path"]
        assert http.delete("/admin/models/by-path").status_code == 200
        engines = http.get("/health").json()["engines"]
        assert not any(e["model"].endswith("alpha.gguf") for e in engines)  # unloaded

        body = {"name": "brief", "model_path": "pulled:alpha", "keep_alive": 0}
        assert http.post("/admin/models", json=body).status_code == 201
        assert chat(server, "brief")  # keep_alive 0: unloaded after each request
        wait_until(lambda: not loaded(server)["brief"], timeout=10)

        user = http.post("/admin/keys", json={"name": "user"}).json()["key"]
        as_user = client(server).with_options(api_key=user)
        with pytest.raises(openai.PermissionDeniedError):
            as_user.post("/../admin/models", cast_to=object, body={"name": "x"})


def test_runtime_models_come_back_after_a_restart(tmp_path: Path) -> None:
    pull_copies(tmp_path, "alpha", "beta")
    config = {"models": catalogue(), "engine": SMALL_ENGINE}
    with run_server(tmp_path, config=config) as server, admin(server) as http:
        for name, path in (("gamma", "pulled:alpha"), ("clash", "pulled:beta")):
            response = http.post("/admin/models", json={"name": name, "model_path": path})
            assert response.status_code == 201, response.text
        assert cards(server)["clash"]["owned_by"] == "modelport"

    # The settings now name `clash` too: theirs is served, the stored one is skipped.
    yaml_clash = {"name": "clash", "owned_by": "the-settings", "channels": [{"provider": "local"}]}
    config = {"models": [*catalogue(), yaml_clash], "engine": SMALL_ENGINE}
    with run_server(tmp_path, config=config) as server, admin(server) as http:
        listed = cards(server)
        assert listed["gamma"]["loaded"] is False
        assert listed["clash"]["owned_by"] == "the-settings"
        assert chat(server, "gamma")
        assert http.delete("/admin/models/gamma").status_code == 200
        assert "runtime model 'clash' is also in the settings" in server.log()

    with run_server(tmp_path, config=config) as server, admin(server) as http:
        assert "gamma" not in cards(server)
        assert [m["name"] for m in http.get("/admin/models").json()["data"]] == ["clash"]
