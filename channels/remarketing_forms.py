"""Forms of the results pages: a follow-up channel, and an uploaded list of conversions."""

from __future__ import annotations

import csv

from django import forms
from django.conf import settings

from config.uploads import refuse_oversized

from .conversions import read_addresses
from .figures import outcome_label
from .forms import ChannelForm
from .models import Channel
from .remarketing import audience_counts, outcome_choices


class RemarketForm(ChannelForm):
    """Whom to follow up (outcomes of the source), then the new channel like any other.

    Validation is the channel form's and the model's: `Channel.clean()` and the template
    validators run through `full_clean` on an instance already bound to the source's
    campaign.
    """

    outcomes = forms.MultipleChoiceField(label="Follow up on", widget=forms.CheckboxSelectMultiple)
    unconverted_only = forms.BooleanField(label="Not converted only", required=False)

    def __init__(self, *args, source: Channel, **kwargs) -> None:
        kwargs.setdefault("instance", Channel(campaign=source.campaign))
        super().__init__(*args, **kwargs)
        self.source = source
        self.counts = audience_counts(channel=source)
        self.fields["outcomes"].choices = [
            (choice, outcome_label(choice)) for choice in outcome_choices(channel=source)
        ]
        if not self.is_bound:
            self.initial.setdefault("name", f"Follow-up of {source.name}")

    def clean(self) -> dict:
        data = super().clean()
        outcomes = data.get("outcomes") or []
        key = "unconverted" if data.get("unconverted_only") else "all"
        if outcomes and not sum(self.counts.get(o, {}).get(key, 0) for o in outcomes):
            self.add_error("outcomes", "No contact has these outcomes; choose others.")
        return data

    @property
    def chosen_count(self) -> int:
        data = getattr(self, "cleaned_data", {})
        key = "unconverted" if data.get("unconverted_only") else "all"
        return sum(self.counts.get(o, {}).get(key, 0) for o in data.get("outcomes") or [])


class ConversionUploadForm(forms.Form):
    file = forms.FileField(
        label="List of phones or emails",
        required=False,
        help_text="A text or CSV file; every cell that is a phone or an email counts.",
    )
    addresses = forms.CharField(
        label="Or paste them, one a line", widget=forms.Textarea(attrs={"rows": 6}), required=False
    )

    def clean(self) -> dict:
        from campaigns.contacts import importing

        data = super().clean()
        upload = data.get("file")
        text = ""
        if upload:
            refuse_oversized(upload, limit=settings.HERALD_MAX_CONVERSIONS_BYTES)
            try:
                text = importing.decode_upload(upload)
            except importing.ImportRefused as exc:
                raise forms.ValidationError(f"{exc} Nothing was marked converted.") from exc
        text += "\n" + (data.get("addresses") or "")
        try:
            data["addresses_found"] = read_addresses(text)
        except csv.Error as exc:  # a lone carriage return, a cell over the field limit
            raise forms.ValidationError(
                f"The list cannot be read as CSV: {exc}. Nothing was marked converted."
            ) from exc
        if not data["addresses_found"]:
            raise forms.ValidationError("Upload a file or paste at least one phone or email.")
        return data
