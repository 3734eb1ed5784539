from django.contrib import admin

from channels.admin import COUNTERS, ReadOnlyAdmin, ReadOnlyInline, transition_action
from channels.models import Channel

from .models import (
    ActivityEvent,
    Campaign,
    ConsentChange,
    Contact,
    ContactList,
    ImportJob,
    Membership,
    Preferences,
)


class ChannelInline(admin.TabularInline):
    model = Channel
    extra = 0
    fields = ("name", "kind", "status", "max_per_second", "processed", "audience_size")
    readonly_fields = ("status", *COUNTERS)
    show_change_link = True

    def has_change_permission(self, request, obj=None):
        return False


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("yes", "Archived"), ("no", "Not archived")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        return queryset


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "contact_list", "created_by", "created_at")
    list_filter = ("status", ArchivedFilter)
    search_fields = ("name", "description")
    list_select_related = ("contact_list", "created_by")
    readonly_fields = ("status", "archived_at", "created_at", "updated_at")
    raw_id_fields = ("created_by",)
    inlines = [ChannelInline]
    actions = [
        transition_action("archive", "Archive selected campaigns", "archive"),
        transition_action("unarchive", "Unarchive selected campaigns", "archive"),
    ]

    def has_archive_permission(self, request) -> bool:
        return request.user.has_perm("campaigns.archive_campaign")

    def get_readonly_fields(self, request, obj=None):
        # The same rules as the campaign's page (CampaignForm, campaign_edit).
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_archived:
            fields += ["name", "description", "contact_list", "created_by"]
        elif obj is not None and obj.contact_list_is_fixed:
            fields.append("contact_list")
        return fields

    def get_inlines(self, request, obj):
        # An archived campaign takes no new channel (nor does it show the empty add row).
        return [] if obj is not None and obj.is_archived else self.inlines

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.can_delete():
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        # A campaign's deletion takes its channels, deliveries and activity with it (SPEC
        # section 3). Their own admins refuse one-off deletes, which must not block this one;
        # a running channel still does, through has_delete_permission on the campaign.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed = {name for name in perms_needed if name == Campaign._meta.verbose_name}
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        obj.delete_everything(by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Channel:
            return super().save_formset(request, form, formset, change)
        # The inline only adds and removes (it cannot change a channel): through the model.
        for channel in formset.save(commit=False):
            form.instance.add_channel(channel, by=request.user)
        for channel in formset.deleted_objects:
            channel.remove(by=request.user)

    def delete_queryset(self, request, queryset):
        for campaign in queryset:
            campaign.delete_everything(by=request.user)


@admin.register(ContactList)
class ContactListAdmin(admin.ModelAdmin):
    list_display = ("name", "size", "created_at")
    search_fields = ("name",)
    readonly_fields = ("size", "created_at")

    def get_deleted_objects(self, objs, request):
        # A list's deletion takes its memberships and imports with it (the contacts stay).
        # Their own admins are read-only, which must not block this one.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed = {name for name in perms_needed if name == ContactList._meta.verbose_name}
        return deleted, counts, perms_needed, protected

    # As on the list's page: its imports' files go with it.
    def delete_model(self, request, obj):
        obj.delete_with_files()

    def delete_queryset(self, request, queryset):
        for contact_list in queryset:
            contact_list.delete_with_files()


class ConsentChangeInline(ReadOnlyInline):
    model = ConsentChange
    fields = ("created_at", "kind", "opted_out", "source", "detail", "actor")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "phone", "email", *Contact.OPT_OUT_FIELDS.values())
    list_filter = tuple(Contact.OPT_OUT_FIELDS.values())
    search_fields = ("name", "phone", "email")
    # Consent changes only through Contact.set_consent (the contact page, replies, bounces),
    # which writes each one to the contact's history.
    readonly_fields = tuple(Contact.OPT_OUT_FIELDS.values())
    inlines = [ConsentChangeInline]

    def delete_model(self, request, obj):
        self.delete_queryset(request, Contact.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        # Memberships go with the contact; the lists' stored sizes must follow.
        list_ids = list(
            Membership.objects.filter(contact__in=queryset).values_list("contact_list", flat=True)
        )
        queryset.delete()
        for contact_list in ContactList.objects.filter(pk__in=set(list_ids)):
            contact_list.recount()


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "subject", "from_status", "to_status")
    list_filter = ("action",)
    search_fields = ("subject", "campaign__name", "actor__username")
    date_hierarchy = "created_at"


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    # Adding or removing goes through the list's page, which keeps the list's size right.
    list_display = ("contact", "contact_list", "created_at")
    list_select_related = ("contact", "contact_list")
    search_fields = ("contact__name", "contact__email", "contact__phone", "contact_list__name")
    raw_id_fields = ("contact", "contact_list")


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = (
        "original_name",
        "contact_list",
        "status",
        "rows_read",
        "rows_imported",
        "rows_merged",
        "rows_rejected",
        "created_at",
    )
    list_filter = ("status",)
    list_select_related = ("contact_list",)
    search_fields = ("original_name", "contact_list__name")


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "contact", "kind", "opted_out", "source")
    list_filter = ("kind", "opted_out", "source")
    search_fields = ("contact__name", "contact__email", "contact__phone")
    raw_id_fields = ("contact", "actor")


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    """The zone validates against the IANA database (the model's validator), as on the page."""

    list_display = ("user", "timezone")
    search_fields = ("user__username", "timezone")
    raw_id_fields = ("user",)
