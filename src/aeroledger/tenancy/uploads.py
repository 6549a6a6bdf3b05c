"""Uploaded files: a size limit applied while the upload streams in, and CSV files kept server-side
between the preview and the import.

`SizeLimitUploadHandler` comes first in FILE_UPLOAD_HANDLERS: it counts each file's bytes and,
past `AEROLEDGER_CSV_MAX_BYTES`, passes nothing more on to the handlers that would store it (memory
or a temporary file). Django still reads (and drops) the rest of the request, so the browser gets
the page with the message instead of a reset connection; the worker holds one chunk at a time.
The form sees a `TooLarge` file carrying the size and refuses it with a message naming the limit.
"""

import secrets
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils import timezone

from .csvfiles import max_bytes
from .models import PendingImport

KEEP = timedelta(hours=1)  # a preview may be confirmed for this long


class TooLarge(SimpleUploadedFile):
    """What the form gets for a file over the limit: no content, its size as counted."""

    too_large = True

    def __init__(self, name: str, size: int):
        super().__init__(name, b"", content_type="text/csv")
        self.size = size


class SizeLimitUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_bytes():
            return None  # the handlers after this one get no more of this file
        return raw_data

    def file_complete(self, file_size):
        if self.received > max_bytes():
            return TooLarge(self.file_name, self.received)
        return None  # within the limit: the next handler (memory or temporary file) has it all


# --- Kept between preview and import -----------------------------------------------------------------


def keep(request, kind: str, name: str, data: bytes) -> str:
    """Store the uploaded `data` for this user and organisation; the token names it in the form."""
    PendingImport.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    token = secrets.token_urlsafe(32)
    PendingImport.objects.create(
        token=token,
        organisation=request.organisation,
        user=request.user,
        kind=kind,
        name=name[:255],
        data=data,
    )
    return token


def kept(request, kind: str, token: str) -> PendingImport | None:
    """The file stored under `token` by this user, organisation and import, if not expired."""
    if not token or len(token) > 64:
        return None
    return PendingImport.objects.filter(
        token=token,
        organisation=request.organisation,
        user=request.user,
        kind=kind,
        created_at__gte=timezone.now() - KEEP,
    ).first()
