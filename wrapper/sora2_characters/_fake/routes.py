"""Where the fake answers: each API operation's method and path, and the fake's own mount points.

Kept apart from the application so the facade can name its URLs without importing Starlette.
"""

from __future__ import annotations

from typing import Final

#: (method, path) -> operation name used by the fault plan and the recorded requests.
OPERATION_PATHS: Final[dict[tuple[str, str], str]] = {
    ("post", "/api/v1/jobs/createTask"): "createTask",
    ("get", "/api/v1/jobs/recordInfo"): "recordInfo",
    ("get", "/api/v1/chat/credit"): "credits",
    ("post", "/api/v1/common/download-url"): "downloadUrl",
    ("post", "/api/file-stream-upload"): "fileStreamUpload",
    ("post", "/api/file-base64-upload"): "fileBase64Upload",
    ("post", "/api/file-url-upload"): "fileUrlUpload",
}

#: Where the upload API is mounted on the fake (it also answers at the bare paths).
UPLOAD_API_MOUNT: Final = "/file-upload"
#: Where stored files are served from.
FILES_PREFIX: Final = "/files/"
