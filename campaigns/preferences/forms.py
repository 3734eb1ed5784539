from django import forms
from django.conf import settings

from campaigns.contacts.zones import iana_zones, not_a_zone_message


class PreferencesForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Every date and time on Herald's pages is shown in this zone.",
        error_messages={"invalid_choice": not_a_zone_message("%(value)s")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["timezone"]
        field.choices = [
            ("", f"— the site's default ({settings.TIME_ZONE}) —"),
            *((zone, zone) for zone in sorted(iana_zones())),
        ]
