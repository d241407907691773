"""`modelport serve` refuses a catalogue it cannot run, naming the file, model, channel and
field, before it binds a port."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def _serve(tmp_path: Path, channels: list[dict[str, object]]) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "modelport.yaml"
    models = [
        {"name": "fine", "channels": [{"provider": "openai_compat", "base_url": "http://x/v1"}]},
        {"name": "gpt-4", "channels": channels},
    ]
    config.write_text(yaml.safe_dump({"models": models}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
    args = [sys.executable, "-m", "modelport", "serve", "--config", str(config)]
    args += ["--data-dir", str(tmp_path / "data"), "--port", "9"]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("channel", "named"),
    [
        (
            {"provider": "ernie", "options": {"ak": "a", "sk": "b", "endpont": "x"}},
            "model 'gpt-4', channel 1: options.endpont: Extra inputs are not permitted",
        ),
        (
            {"provider": "openai_compat", "upstrem_model": "gpt-4o"},
            "model 'gpt-4', channel 1: upstrem_model: Extra inputs are not permitted",
        ),
        (
            {"provider": "openai-compat"},
            "model 'gpt-4', channel 1: provider: unknown 'openai-compat'",
        ),
    ],
)
def test_a_misspelt_channel_stops_serve(
    tmp_path: Path, channel: dict[str, object], named: str
) -> None:
    ok = {"provider": "openai_compat", "base_url": "http://y/v1"}
    result = _serve(tmp_path, [ok, channel])
    assert result.returncode == 2
    assert f"modelport: {tmp_path / 'modelport.yaml'}: {named}" in result.stderr
    assert not (tmp_path / "data").exists()  # stopped before anything was set up
