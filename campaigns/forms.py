from django import forms

from .models import Campaign, ContactList


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "description", "contact_list"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "contact_list": "Each channel works through this list as it stands when started."
        }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["contact_list"].queryset = ContactList.objects.order_by("name")
        self.fields["contact_list"].empty_label = "Choose a contact list"
        self.fields["contact_list"].label_from_instance = lambda contact_list: (
            f"{contact_list.name} ({contact_list.size:,} contacts)"
        )
        if self.instance.pk and self.instance.contact_list_is_fixed:
            # Started channels have fixed their audience from this list.
            self.fields["contact_list"].disabled = True
            self.fields[
                "contact_list"
            ].help_text = "Fixed once a channel has started: its audience came from this list."
