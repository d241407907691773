"""The one base every wire type sits on."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, model_validator

log = logging.getLogger("modelport.protocol")


class WireModel(BaseModel):
    """Response-side base: what we send, and what we read back from OpenAI-compatible upstreams
    (their additions are ignored, so a vendor adding a field never breaks parsing)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class RequestModel(BaseModel):
    """Request-side base: unknown fields are accepted and ignored, as OpenAI does (and logged)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="after")
    def _log_ignored(self) -> RequestModel:
        if self.model_extra:
            log.debug("%s: ignoring fields %s", type(self).__name__, sorted(self.model_extra))
        return self
