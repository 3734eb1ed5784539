from django import forms

from .models import Channel
from .retries import MAX_ATTEMPTS, MIN_DELAY_MINUTES, RETRYABLE
from .sms_length import SmsLength, as_sent, sms_length
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
# The text fields a preview renders from what is typed.
TYPED_CONTENT = (
    "voice_script",
    "caller_id",
    "sms_template",
    "sms_sender",
    "email_subject",
    "email_body",
    "email_from",
)
PLACEHOLDER_HELP = (
    "Placeholders such as {first_name}, {name} or {city} are filled per contact; "
    "{first_name|there} gives a default to contacts without one."
)


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
        # data-preview: the content tools' preview follows these fields as one types
        # (templates/channels/_content_tools.html); data-sms-counter names the counter that
        # static/js/sms-length.js keeps up to date.
        widgets = {
            "kind": forms.Select(attrs={"data-preview": ""}),
            "voice_script": forms.Textarea(attrs={"rows": 4, "data-preview": ""}),
            "sms_template": forms.Textarea(
                attrs={"rows": 3, "data-preview": "", "data-sms-counter": "sms-length"}
            ),
            "email_subject": forms.TextInput(attrs={"data-preview": ""}),
            "email_body": forms.Textarea(attrs={"rows": 6, "data-preview": ""}),
            "window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "voice_script": f"{PLACEHOLDER_HELP} At most "
            f"{Channel.CONTENT_MAX_LENGTHS['voice_script']:,} characters.",
            "sms_template": f"{PLACEHOLDER_HELP} At most {Channel.SMS_MAX_LENGTH:,} "
            "characters (Twilio's limit).",
            "email_subject": f"At most {Channel._meta.get_field('email_subject').max_length} "
            "characters; placeholders work here too.",
            "email_body": f"{PLACEHOLDER_HELP} At most "
            f"{Channel.CONTENT_MAX_LENGTHS['email_body']:,} characters.",
            "window_end": WINDOW_HELP,
            "retry_after_minutes": f"At least {MIN_DELAY_MINUTES}, from the end of the call.",
            "max_attempts": f"1 to {MAX_ATTEMPTS}, the first call included; 1 means no retry.",
        }
        error_messages = {
            "email_subject": {
                "max_length": "The subject can be at most %(limit_value)d characters; "
                "this one has %(show_value)d."
            },
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

    def clean_sms_template(self) -> str:
        return as_sent(self.cleaned_data["sms_template"])

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

    def content_as_typed(self) -> Channel:
        """An unsaved channel with the content as it stands in the form, valid or not: what
        the preview renders (a placeholder mistyped shows as it would be sent)."""
        instance = self.instance
        kind = instance.kind or Channel.Kind.AI_VOICE
        if self.is_bound and not self.fields["kind"].disabled:
            kind = self.data.get("kind") if self.data.get("kind") in Channel.Kind else kind
        channel = Channel(kind=kind, campaign_id=instance.campaign_id)
        for name in TYPED_CONTENT:
            value = self.data.get(name, "") if self.is_bound else getattr(instance, name)
            setattr(channel, name, as_sent(value) if name == "sms_template" else value)
        return channel

    def sms_length(self) -> SmsLength:
        """The SMS template's length as it stands in the form (the counter's first value)."""
        return sms_length(self.content_as_typed().sms_template)

    def content_errors(self) -> list[str]:
        """The errors of the content the chosen kind sends, “label: message”."""
        if not self.is_bound or self.is_valid():
            return []
        kind = self.content_as_typed().kind
        return [
            f"{self.fields[name].label}: {' '.join(self.errors[name])}"
            for name in CONTENT_FIELDS[kind]
            if name in self.errors
        ]

    def kind_sections(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(kind value, kind label, its bound fields) for the template's fieldsets."""
        return [
            (kind.value, kind.label, [self[name] for name in CONTENT_FIELDS[kind]])
            for kind in Channel.Kind
        ]
