"""CSV files the contact tests upload or queue."""

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import ImportJob
from tests.factories import ImportJobFactory

GOOD_CSV = b"name,phone,email\nAnn,(202) 555-0101,ann@example.com\nBob,nope,bob@example.com\n"


def upload(data: bytes = GOOD_CSV, name: str = "contacts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def job_for(data: bytes, **kwargs) -> ImportJob:
    """A queued import job of `data`, as if uploaded without the form's inspection."""
    return ImportJobFactory(
        file=ContentFile(data, name="contacts.csv"), size_bytes=len(data), **kwargs
    )
