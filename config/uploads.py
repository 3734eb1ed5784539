"""Uploaded files: the size cap every upload form applies, and the handler that keeps an
oversized upload off the disk (SPEC section 6: uploads are capped and refused with a clear
message past the cap)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.template.defaultfilters import filesizeformat


def largest_cap() -> int:
    return max(settings.HERALD_MAX_IMPORT_BYTES, settings.HERALD_MAX_CONVERSIONS_BYTES)


class CappedUploadHandler(TemporaryFileUploadHandler):
    """Stores an upload in a temporary file up to the largest cap, then only counts it.

    The form still sees the whole size (and refuses the file with its message), but a 50 GB
    upload costs no more disk than the cap while the request is read.
    """

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.cap = largest_cap()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) <= self.cap:
            self.file.write(raw_data)


def refuse_oversized(upload: UploadedFile, *, limit: int) -> None:
    """Raise the form error for a file over `limit` bytes; nothing of it is used."""
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"This file is {filesizeformat(upload.size)}; Herald takes files of up to "
            f"{filesizeformat(limit)}. Split it into smaller files and upload each one.",
            code="too_large",
        )
