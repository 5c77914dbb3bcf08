"""A stored result file as an HTTP answer: the file from disk, a redirect to a presigned URL, or a stream."""

from __future__ import annotations

from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from refvid.api.deps import AppState
from refvid.jobs.models import Job
from refvid.storage import result_key


def stored_file(
    state: AppState, job: Job, name: str, *, media_type: str, filename: str | None = None,
    headers: dict[str, str] | None = None, redirect: bool = True,
) -> Response | None:
    """The answer that hands out ``name`` of a completed job; None when the file is gone.

    With object storage the default is a 307 to a short-lived presigned URL, so the bytes
    never pass through the API; ``redirect=False`` (v1) or ``REFVID_RESULTS_DELIVERY=stream``
    sends them through.
    """
    found = state.storage.download(
        result_key(job.id, job.result_key), name, filename=filename or name, media_type=media_type,
        redirect=redirect,
    )
    if found is None:
        return None
    if found.path is not None:
        return FileResponse(found.path, media_type=media_type, filename=filename, headers=headers)
    if found.url is not None:
        return RedirectResponse(found.url, status_code=307, headers=headers)
    assert found.chunks is not None
    extra = {"Content-Length": str(found.size)}
    if filename:
        extra["Content-Disposition"] = f'attachment; filename="{filename}"'
    return StreamingResponse(found.chunks, media_type=media_type, headers={**(headers or {}), **extra})
