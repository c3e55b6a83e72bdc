from django.urls import path

from . import views

app_name = "follows"

urlpatterns = [
    path("follows", views.index, name="index"),
    path("follows/authors/<int:pk>", views.toggle_author, name="author"),
    path("follows/organizations/<slug:slug>", views.toggle_organization, name="organization"),
    path("follows/searches", views.toggle_search, name="search"),
    path("follows/<int:pk>/unfollow", views.unfollow, name="unfollow"),
    path("follows/<int:pk>/digest", views.digest, name="digest"),
    path("follows/feed-token", views.rotate_token, name="rotate_token"),
]
