from django import forms

from .models import Channel

# The content fields each kind uses, in the order the form shows them.
CONTENT_FIELDS = {
    Channel.Kind.AI_VOICE: ["voice_script", "caller_id", "max_concurrent", "convert_on_success"],
    Channel.Kind.SMS: ["sms_template", "sms_sender"],
    Channel.Kind.EMAIL: ["email_subject", "email_body", "email_from"],
}
PLACEHOLDER_HELP = "Placeholders such as {first_name}, {name} or {city} are filled per contact."


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = [
            "kind",
            "name",
            "voice_script",
            "caller_id",
            "max_concurrent",
            "convert_on_success",
            "sms_template",
            "sms_sender",
            "email_subject",
            "email_body",
            "email_from",
            "max_per_second",
        ]
        widgets = {
            "voice_script": forms.Textarea(attrs={"rows": 4}),
            "sms_template": forms.Textarea(attrs={"rows": 3}),
            "email_body": forms.Textarea(attrs={"rows": 6}),
        }
        help_texts = {
            "voice_script": PLACEHOLDER_HELP,
            "sms_template": PLACEHOLDER_HELP,
            "email_body": PLACEHOLDER_HELP,
        }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Channel.Kind.choices
        for name in ("max_per_second", "max_concurrent"):
            self.fields[name].min_value = 1
            self.fields[name].widget.attrs["min"] = 1
        # Only voice uses it; other kinds keep what they have.
        self.fields["max_concurrent"].required = False
        if self.instance.pk and self.instance.status != Channel.Status.READY:
            # SPEC section 2: a paused channel's content and pacing can change, its kind not.
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = "The kind is fixed once a channel has started."

    def clean_max_concurrent(self) -> int:
        value = self.cleaned_data.get("max_concurrent")
        return value if value is not None else self.instance.max_concurrent

    def kind_sections(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(kind value, kind label, its bound fields) for the template's fieldsets."""
        return [
            (kind.value, kind.label, [self[name] for name in CONTENT_FIELDS[kind]])
            for kind in Channel.Kind
        ]
