"""Till releases for download, with the terminal's token like every /api/v1/sync route.

    GET /api/v1/sync/releases/{version}   → the bundle's bytes (application/x-tar);
        404 when no active release has that version (unknown or withdrawn)

The heartbeat answer names the release to fetch (`retail.schema.ReleaseOffer`, with its
sha256 and size for checking the download). The bundle is served as stored: its signature is
for the till's updater to verify (`cloud_oms.releases`).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import FileResponse

from .. import db as dbmod
from .. import releases
from ..config import ConfigError
from ..models.core import Terminal
from .deps import current_terminal

router = APIRouter(tags=["terminals"])
log = logging.getLogger(__name__)


@router.get(
    "/api/v1/sync/releases/{version}",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/x-tar": {}}, "description": "the release bundle"},
        401: {"description": "terminal token missing, unknown or revoked"},
        404: {"description": "no active release with that version"},
    },
)
def download_release(
    request: Request,
    version: str = Path(min_length=1, max_length=40, pattern=r"^[0-9][0-9a-z.]*$"),
    terminal: Terminal = Depends(current_terminal),
) -> FileResponse:
    with dbmod.session():
        release = releases.active(version)
    if release is None:
        raise HTTPException(404, detail=f"release {version}: not offered (unknown or withdrawn)")
    try:
        path = releases.releases_dir(request.app.state.settings.files_dir()) / release.filename
    except ConfigError as exc:
        path, problem = None, str(exc)
    else:
        problem = f"file {path} is missing"
    if path is None or not path.is_file():
        # The row says it is stored: the data directory was moved, cleaned or not configured
        # for this web service. The till tries again later; the owner needs to hear of it.
        log.error("release %s cannot be served: %s", version, problem)
        raise HTTPException(404, detail=f"release {version}: its file is missing on the OMS")
    return FileResponse(
        path,
        media_type="application/x-tar",
        filename=release.filename,
        headers={"X-Kasir-Sha256": release.sha256},
    )
