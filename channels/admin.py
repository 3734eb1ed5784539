from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import (
    Attempt,
    AudienceMember,
    Channel,
    CounterDelta,
    Delivery,
    EngineLease,
    InvalidTransition,
    ProviderEvent,
)

COUNTERS = (
    "audience_size",
    "processed",
    "in_flight",
    "skipped",
    "interrupted",
    "converted",
    "retries",
    "outcome_counts",
)


def run_transition(modeladmin, request: HttpRequest, queryset: QuerySet, method: str) -> None:
    """Apply a model method to each selected object; refusals become admin messages."""
    done = 0
    for obj in queryset:
        try:
            getattr(obj, method)(by=request.user)
        except InvalidTransition as exc:
            modeladmin.message_user(request, f"{obj}: {exc}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{method.capitalize()}: {done} done.", messages.SUCCESS)


def transition_action(method: str, description: str, permission: str):
    @admin.action(description=description, permissions=[permission])
    def action(modeladmin, request, queryset):
        run_transition(modeladmin, request, queryset, method)

    action.__name__ = f"{method}_selected"
    return action


class ReadOnlyAdmin(admin.ModelAdmin):
    """Browsable, never changed here: rows only Herald itself writes (ledgers, logs)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows only Herald writes, listed under their parent: every field shown, none changed,
    none added or deleted here. Subclasses name the model and its `fields`."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class OperateChannelPermission:
    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("channels.operate_channel")


@admin.register(Channel)
class ChannelAdmin(OperateChannelPermission, admin.ModelAdmin):
    list_display = ("name", "campaign", "kind", "status", "processed", "audience_size")
    list_filter = ("status", "kind")
    search_fields = ("name", "campaign__name")
    list_select_related = ("campaign",)
    raw_id_fields = ("campaign", "source_channel", "created_by")
    readonly_fields = ("status", "started_at", "paused_at", "finished_at", *COUNTERS)
    actions = [
        transition_action("start", "Start selected channels", "operate"),
        transition_action("pause", "Pause selected channels", "operate"),
        transition_action("resume", "Resume selected channels", "operate"),
        transition_action("stop", "Stop selected channels (permanent)", "operate"),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not obj.is_editable:
            # SPEC section 2: only Ready and Paused channels can be edited, and only a Ready
            # one may change its kind or audience.
            fields += [f.name for f in obj._meta.fields if f.editable and f.name not in fields]
        elif obj is not None and obj.status == Channel.Status.PAUSED:
            fields += ["kind", "campaign", "source_channel", "source_outcomes"]
        elif obj is not None:
            # A channel never moves to another campaign (SPEC section 6): both campaigns'
            # stored statuses would go wrong, and an archived one would take a channel.
            fields.append("campaign")
        return fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != Channel.Status.READY:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            obj.campaign.add_channel(obj, by=request.user)

    def delete_model(self, request, obj):
        obj.remove(by=request.user)

    def delete_queryset(self, request, queryset):
        # One by one through Channel.remove, which recomputes the campaign's status.
        for channel in queryset:
            channel.remove(by=request.user)


class EarlierCallInline(ReadOnlyInline):
    """A delivery's earlier calls (voice retries): the engine writes them."""

    model = Attempt
    fields = ("number", "outcome", "provider_id", "started_at", "ended_at", "details")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    inlines = [EarlierCallInline]
    list_display = ("channel", "contact", "state", "outcome", "converted", "created_at")
    list_filter = ("state", "outcome", "converted", "channel__kind")
    search_fields = ("contact__name", "contact__phone", "contact__email", "provider_id")
    list_select_related = ("channel", "contact")
    raw_id_fields = ("channel", "contact")
    readonly_fields = (
        "channel",
        "contact",
        "state",
        "outcome",
        "provider_id",
        "error",
        "created_at",
        "finished_at",
        "lease_expires_at",
        "attempts",
        "retried_at",
        "converted",
        "converted_at",
        "details",
    )

    def has_add_permission(self, request):
        # The ledger is written by the engine only.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AudienceMember)
class AudienceMemberAdmin(ReadOnlyAdmin):
    list_display = ("channel", "contact")
    raw_id_fields = ("channel", "contact")


@admin.register(EngineLease)
class EngineLeaseAdmin(ReadOnlyAdmin):
    list_display = ("name", "token", "expires_at")


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    """Every provider callback as it came, for support: read-only."""

    list_display = ("received_at", "provider", "status", "provider_id", "result", "delivery")
    list_filter = ("provider", "result", "kind")
    search_fields = ("provider_id", "event_id")
    raw_id_fields = ("delivery",)


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    """Earlier calls of deliveries called again (voice retries): read-only."""

    list_display = ("delivery", "number", "outcome", "started_at", "ended_at")
    list_filter = ("outcome",)
    search_fields = ("provider_id",)
    list_select_related = ("delivery",)
    raw_id_fields = ("delivery",)


@admin.register(CounterDelta)
class CounterDeltaAdmin(ReadOnlyAdmin):
    """Counter changes waiting to be folded into their channel (usually none): read-only."""

    list_display = ("channel", "processed", "in_flight", "converted", "outcomes")
