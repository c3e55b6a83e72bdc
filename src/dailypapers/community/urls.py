from django.urls import path, re_path

from . import views

app_name = "community"

# Included before the papers app's catch-all paper route.
urlpatterns = [
    path("papers/submit", views.submit, name="submit"),
    re_path(r"^papers/(?P<raw_id>.+)/vote$", views.vote, name="vote"),
    re_path(r"^papers/(?P<raw_id>.+)/comments$", views.comment_create, name="comment_create"),
    re_path(r"^papers/(?P<raw_id>.+)/claim/(?P<author_pk>\d+)$", views.claim, name="claim"),
    re_path(r"^papers/(?P<raw_id>.+)/organization$", views.set_organization, name="set_organization"),
    path("comments/<int:pk>/edit", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete", views.comment_delete, name="comment_delete"),
    path("comments/<int:pk>/report", views.comment_report, name="comment_report"),
    path("organizations/new", views.organization_create, name="organization_create"),
    path("organizations/<slug:slug>/members", views.organization_add_member, name="organization_add_member"),
    path("users/<str:username>", views.profile, name="profile"),
]
