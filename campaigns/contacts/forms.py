import zoneinfo

import phonenumbers
from django import forms
from django.conf import settings

from config.uploads import refuse_oversized

from . import importing
from .models import Contact, ContactList
from .zones import not_a_zone_message

REGION_CHOICES = sorted(
    (region, f"{region} (+{phonenumbers.country_code_for_region(region)})")
    for region in phonenumbers.SUPPORTED_REGIONS
)
TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class ContactListForm(forms.ModelForm):
    class Meta:
        model = ContactList
        fields = ["name"]
        error_messages = {"name": {"unique": "A list with this name already exists."}}


class ContactForm(forms.ModelForm):
    # Blank: the zone comes from the phone number, else HERALD_DEFAULT_TIMEZONE (SPEC 4b).
    timezone = forms.ChoiceField(
        choices=[("", "— from the phone number, else the default —"), *TIMEZONE_CHOICES],
        required=False,
        label="Time zone",
        # The model's and the import's words for an unknown zone, not a generic "choice".
        error_messages={"invalid_choice": not_a_zone_message("%(value)s")},
    )

    class Meta:
        model = Contact
        fields = ["name", "phone", "email", "timezone"]


class OptOutForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = list(Contact.OPT_OUT_FIELDS.values())


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file")
    default_region = forms.ChoiceField(
        choices=REGION_CHOICES,
        label="Country of numbers without a country code",
        initial=settings.HERALD_DEFAULT_REGION,
    )
    update_existing = forms.BooleanField(
        required=False,
        label="Update existing contacts",
        help_text=(
            "A row with the phone or email of a contact Herald already has is that contact. "
            "Left unticked, the stored contact keeps its name and details and the report "
            "lists the row with both names; ticked, the row's name and details replace them."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        refuse_oversized(upload, limit=settings.HERALD_MAX_IMPORT_BYTES)
        try:
            self.layout = importing.inspect_csv(upload)
        except importing.ImportRefused as exc:
            raise forms.ValidationError(f"{exc} Nothing was imported.") from exc
        upload.seek(0)
        return upload


class NewListImportForm(ImportForm):
    list_name = forms.CharField(max_length=200, label="New list name")

    field_order = ["list_name", "file", "default_region", "update_existing"]

    def clean_list_name(self) -> str:
        name = self.cleaned_data["list_name"].strip()
        if ContactList.objects.filter(name=name).exists():
            raise forms.ValidationError(
                "A list with this name already exists; import into it from its page."
            )
        return name
