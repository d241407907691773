"""Settings of runtime channel management (the `channels:` section)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ChannelAdminSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How often a replica compares the database's change stamp with the one it loaded: the
    # bound on how late a change reaches a replica when Redis does not tell it first.
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # How often channels switched off by the platform (auth or balance failures) are tried
    # again, when they asked for it (`auto_probe`); 0 turns the probe off.
    probe_seconds: float = Field(default=300.0, ge=0)
    probe_model_timeout: float = Field(default=30.0, gt=0)
