"""Request bodies of the API beyond the contract's own :class:`GenerationRequest`."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator

from refvid.request import GenerationRequest

PAYLOAD_MAX_BYTES = 64 * 1024


class AsyncGenerationRequest(GenerationRequest):
    """The v2 body: the contract's fields plus an optional webhook and an opaque payload."""

    webhook_url: str | None = Field(
        default=None, max_length=2048,
        description="Called with the result when the request reaches a final state (signed).",
    )
    payload: Any = Field(default=None, description="Any JSON (up to 64 KB), echoed back in the result.")

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("webhook_url must start with http:// or https://")
        return value

    @field_validator("payload")
    @classmethod
    def _small_payload(cls, value: Any) -> Any:
        if value is not None and len(json.dumps(value)) > PAYLOAD_MAX_BYTES:
            raise ValueError(f"payload must serialise to at most {PAYLOAD_MAX_BYTES} bytes of JSON")
        return value

    def generation(self) -> GenerationRequest:
        """The part the renderer sees."""
        return GenerationRequest.model_validate(self.model_dump(exclude={"webhook_url", "payload"}))
