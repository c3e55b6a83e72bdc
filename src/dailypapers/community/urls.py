from django.urls import path, re_path

from . import views

app_name = "community"

# Included before the pages' catch-all paper route (pages/urls.py).
urlpatterns = [
    path("papers/submit", views.submit, name="submit"),
    path("papers/submit/<int:pk>", views.submission, name="submission"),
    re_path(r"^papers/(?P<raw_id>.+)/vote$", views.vote, name="vote"),
    re_path(r"^papers/(?P<raw_id>.+)/comments$", views.comment_create, name="comment_create"),
    re_path(r"^papers/(?P<raw_id>.+)/claim/(?P<authorship_pk>\d{1,18})$", views.claim, name="claim"),
    re_path(r"^papers/(?P<raw_id>.+)/organization$", views.set_organization, name="set_organization"),
    path("comments/<int:pk>/edit", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete", views.comment_delete, name="comment_delete"),
    path("comments/<int:pk>/report", views.comment_report, name="comment_report"),
    path("organizations/new", views.organization_create, name="organization_create"),
    path("organizations/<slug:slug>/members", views.organization_invite, name="organization_invite"),
    path("organizations/<slug:slug>/members/<int:pk>/role", views.organization_member_role,
         name="organization_member_role"),
    path("organizations/<slug:slug>/members/<int:pk>/remove", views.organization_member_remove,
         name="organization_member_remove"),
    path("settings/invitations", views.invitations, name="invitations"),
    re_path(r"^settings/invitations/(?P<pk>\d+)/(?P<answer>accept|decline)$", views.invitation_answer,
            name="invitation_answer"),
    path("users/<str:username>", views.profile, name="profile"),
]
