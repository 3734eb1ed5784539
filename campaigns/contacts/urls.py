from django.urls import path

from . import import_views, views

app_name = "contacts"

urlpatterns = [
    path("", views.list_index, name="lists"),
    path("lists/new/", views.list_create, name="list_create"),
    path("lists/<int:pk>/", views.list_detail, name="list_detail"),
    path("lists/<int:pk>/rename/", views.list_rename, name="list_rename"),
    path("lists/<int:pk>/delete/", views.list_delete, name="list_delete"),
    path("lists/<int:pk>/export.csv", views.list_export, name="list_export"),
    path("lists/<int:pk>/import/", import_views.list_import, name="list_import"),
    path("lists/<int:pk>/contacts/add/", views.list_add_contact, name="list_add_contact"),
    path(
        "lists/<int:pk>/contacts/<int:contact_pk>/remove/",
        views.list_remove_contact,
        name="list_remove_contact",
    ),
    path("import/", import_views.import_new, name="import_new"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/cancel/", import_views.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/resume/", import_views.import_resume, name="import_resume"),
    path("imports/<int:pk>/errors.csv", import_views.import_report, name="import_report"),
    path("<int:pk>/", views.contact_detail, name="contact"),
    path("<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/opt-out/", views.contact_opt_out, name="contact_opt_out"),
]
