"""The upload cap: an oversized upload is refused by its form and never fills the disk."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from config.uploads import CappedUploadHandler, refuse_oversized


def test_the_handler_stores_no_more_than_the_largest_cap_but_counts_it_all(settings):
    settings.HERALD_MAX_IMPORT_BYTES = 1000
    settings.HERALD_MAX_CONVERSIONS_BYTES = 500
    handler = CappedUploadHandler()
    handler.new_file("file", "big.csv", "text/csv", 5000)
    received = 0
    for _ in range(10):
        handler.receive_data_chunk(b"x" * 400, received)
        received += 400
    upload = handler.file_complete(received)
    assert upload.size == 4000
    upload.seek(0, 2)
    assert upload.tell() <= 1000
    with pytest.raises(ValidationError, match="Herald takes files of up to 1000"):
        refuse_oversized(upload, limit=1000)


def test_a_file_within_the_cap_is_stored_whole(settings):
    settings.HERALD_MAX_IMPORT_BYTES = 1000
    handler = CappedUploadHandler()
    handler.new_file("file", "small.csv", "text/csv", 600)
    handler.receive_data_chunk(b"a" * 300, 0)
    handler.receive_data_chunk(b"b" * 300, 300)
    upload = handler.file_complete(600)
    assert upload.read() == b"a" * 300 + b"b" * 300
    refuse_oversized(upload, limit=1000)
    refuse_oversized(SimpleUploadedFile("x.csv", b"x" * 1000), limit=1000)
