from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .forms import PreferencesForm
from .middleware import remember_zone
from .models import Preferences


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest) -> HttpResponse:
    """Anyone signed in, viewers too, sets their own zone (it changes no shared data)."""
    chosen = Preferences.objects.filter(user=request.user).values_list("timezone", flat=True)
    form = PreferencesForm(request.POST or None, initial={"timezone": chosen.first() or ""})
    if form.is_valid():
        zone = form.cleaned_data["timezone"]
        Preferences.set_zone(request.user, zone)
        remember_zone(request, zone or settings.TIME_ZONE)
        messages.success(request, f"Times are now shown in {zone or 'the site’s default zone'}.")
        return redirect("preferences:edit")
    status = 400 if form.is_bound else 200
    return render(request, "preferences/edit.html", {"form": form}, status=status)
