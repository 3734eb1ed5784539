import django_filters
from django import forms
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from .models import Campaign

# Sorting by status follows the lifecycle, not the alphabet.
STATUS_ORDER = [
    Campaign.Status.DRAFT,
    Campaign.Status.ACTIVE,
    Campaign.Status.COMPLETED,
    Campaign.Status.ARCHIVED,
]


def with_status_rank(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    return queryset.annotate(
        status_rank=Case(
            *[When(status=status, then=Value(rank)) for rank, status in enumerate(STATUS_ORDER)],
            output_field=IntegerField(),
        )
    )


class CampaignFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Campaign name", "autocomplete": "off"}
        ),
    )
    status = django_filters.ChoiceFilter(
        label="Status", choices=Campaign.Status.choices, empty_label="All"
    )
    sort = django_filters.OrderingFilter(
        label="Sort by",
        empty_label=None,
        fields=[("created_at", "created"), ("name", "name"), ("status_rank", "status")],
        choices=[
            ("-created", "Newest first"),
            ("created", "Oldest first"),
            ("name", "Name A–Z"),
            ("-name", "Name Z–A"),
            ("status", "Status"),
        ],
    )

    class Meta:
        model = Campaign
        fields = ["q", "status", "sort"]

    def search(self, queryset: QuerySet[Campaign], name: str, value: str) -> QuerySet[Campaign]:
        return queryset.filter(Q(name__icontains=value.strip()))

    def filter_queryset(self, queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
        # "All" means every campaign that is not archived (SPEC section 5).
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.exclude(status=Campaign.Status.ARCHIVED)
        queryset = super().filter_queryset(queryset)
        # Newest first unless asked otherwise; the id breaks ties so pages never overlap.
        ordering = queryset.query.order_by or ("-created_at",)
        if self.form.cleaned_data.get("q"):
            ordering = [sorted_after_search(field) for field in ordering]
        return queryset.order_by(*ordering, "-pk")


def sorted_after_search(field):
    """A search's matches come from the name's trigram index (migration 0010), then are
    sorted. Ordered by the bare `created_at`, PostgreSQL would rather walk its index from the
    newest campaign, testing every name, until a page of matches turns up: it assumes matches
    are spread evenly, but an old campaign's name (what a search usually looks for) is only
    found after every newer one is read. Sorting on an expression takes that walk away."""
    if field.lstrip("-") != "created_at":
        return field
    created = Coalesce(F("created_at"), F("created_at"))
    return created.desc() if field.startswith("-") else created.asc()
