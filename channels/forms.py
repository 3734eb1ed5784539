from django import forms

from .models import Channel
from .retries import MAX_ATTEMPTS, MIN_DELAY_MINUTES, RETRYABLE
from .windows import DAY_NAMES

# Voice only; other kinds keep what they have (SPEC 4b).
RETRY_FIELDS = ("retry_outcomes", "retry_after_minutes", "max_attempts")

# The content fields each kind uses, in the order the form shows them.
CONTENT_FIELDS = {
    Channel.Kind.AI_VOICE: [
        "voice_script",
        "caller_id",
        "max_concurrent",
        "convert_on_success",
        *RETRY_FIELDS,
    ],
    Channel.Kind.SMS: ["sms_template", "sms_sender"],
    Channel.Kind.EMAIL: ["email_subject", "email_body", "email_from"],
}
PLACEHOLDER_HELP = "Placeholders such as {first_name}, {name} or {city} are filled per contact."


WINDOW_HELP = (
    "In each contact's local time. Calls and texts default to 08:00–21:00 (the US TCPA "
    "hours); leave both times blank to send at any hour (the default for email)."
)


WINDOW_FIELDS = frozenset({"window_days", "window_start", "window_end"})


class ChannelForm(forms.ModelForm):
    window_days = forms.TypedMultipleChoiceField(
        label="Sending days",
        choices=list(enumerate(DAY_NAMES)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one day to send on."},
    )
    retry_outcomes = forms.TypedMultipleChoiceField(
        label="Call again after",
        choices=[(outcome.value, outcome.label) for outcome in RETRYABLE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="A contact who answered, converted or opted out is never called again.",
    )

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
            "window_days",
            "window_start",
            "window_end",
            *RETRY_FIELDS,
        ]
        widgets = {
            "voice_script": forms.Textarea(attrs={"rows": 4}),
            "sms_template": forms.Textarea(attrs={"rows": 3}),
            "email_body": forms.Textarea(attrs={"rows": 6}),
            "window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "voice_script": PLACEHOLDER_HELP,
            "sms_template": PLACEHOLDER_HELP,
            "email_body": PLACEHOLDER_HELP,
            "window_end": WINDOW_HELP,
            "retry_after_minutes": f"At least {MIN_DELAY_MINUTES}, from the end of the call.",
            "max_attempts": f"1 to {MAX_ATTEMPTS}, the first call included; 1 means no retry.",
        }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Channel.Kind.choices
        for name in ("max_per_second", "max_concurrent"):
            self.fields[name].min_value = 1
            self.fields[name].widget.attrs["min"] = 1
        if self.data and not WINDOW_FIELDS & set(self.data):
            # A post without the window section (the page always sends its time inputs, even
            # blank) leaves the window as it is: a new channel gets its kind's default.
            for name in WINDOW_FIELDS:
                del self.fields[name]
        if "window_days" in self.fields:
            # The days are a form field of their own (checkboxes over a JSON list): show the
            # channel's, every day for a new one.
            self.initial.setdefault("window_days", list(self.instance.window_days or ()))
        if not self.instance.pk:
            # Calls and texts are the kinds most created; an untouched new email channel gets
            # its own default in clean().
            start, end = Channel.DEFAULT_WINDOWS[Channel.Kind.AI_VOICE]
            self.initial.setdefault("window_start", start)
            self.initial.setdefault("window_end", end)
        # Only voice uses these; other kinds keep what they have.
        for name in ("max_concurrent", "retry_after_minutes", "max_attempts"):
            self.fields[name].required = False
        self.fields["retry_after_minutes"].widget.attrs["min"] = MIN_DELAY_MINUTES
        self.fields["max_attempts"].widget.attrs.update(min=1, max=MAX_ATTEMPTS)
        self.initial.setdefault("retry_outcomes", list(self.instance.retry_outcomes or ()))
        if self.instance.pk and self.instance.status != Channel.Status.READY:
            # SPEC section 2: a paused channel's content and pacing can change, its kind not.
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = "The kind is fixed once a channel has started."

    def _kept(self, name: str) -> int:
        """A voice-only number left blank (another kind's form) keeps the channel's value."""
        value = self.cleaned_data.get(name)
        return value if value is not None else getattr(self.instance, name)

    def clean_max_concurrent(self) -> int:
        return self._kept("max_concurrent")

    def clean_retry_after_minutes(self) -> int:
        return self._kept("retry_after_minutes")

    def clean_max_attempts(self) -> int:
        return self._kept("max_attempts")

    def clean(self) -> dict:
        cleaned = super().clean()
        kind = cleaned.get("kind")
        untouched = not {"window_start", "window_end"} & set(self.changed_data)
        if not self.instance.pk and kind in Channel.DEFAULT_WINDOWS and untouched:
            start, end = Channel.DEFAULT_WINDOWS[kind]
            cleaned["window_start"], cleaned["window_end"] = start, end
            self.instance.window_start, self.instance.window_end = start, end
            self.instance.window_days = cleaned.get("window_days") or self.instance.window_days
        return cleaned

    def kind_sections(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(kind value, kind label, its bound fields) for the template's fieldsets."""
        return [
            (kind.value, kind.label, [self[name] for name in CONTENT_FIELDS[kind]])
            for kind in Channel.Kind
        ]
