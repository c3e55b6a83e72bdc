from django.urls import path, re_path

from . import views

app_name = "collections"

# Ids are bounded so that no number overflows a database integer (a 404, not a 500).
PK = r"^collections/(?P<pk>[0-9]{1,18})"
# Old-style arXiv ids contain a slash (hep-th/9901001): the id takes the path up to the action.
PAPER = PK + r"/papers/(?P<raw_id>.+)"

urlpatterns = [
    path("collections", views.mine, name="mine"),
    path("collections/new", views.create, name="create"),
    path("collections/add", views.add, name="add"),
    re_path(PK + r"$", views.detail, name="detail"),
    re_path(PK + r"\.(?P<fmt>bib|ris|json)$", views.export, name="export"),
    re_path(PK + r"/edit$", views.edit, name="edit"),
    re_path(PK + r"/delete$", views.delete, name="delete"),
    re_path(PK + r"/import$", views.import_bib, name="import"),
    re_path(PAPER + r"/remove$", views.remove, name="remove"),
    re_path(PAPER + r"/(?P<direction>up|down)$", views.move, name="move"),
    re_path(PAPER + r"/note$", views.note, name="note"),
    path("users/<str:username>/collections", views.of_user, name="of_user"),
    re_path(r"^papers/(?P<raw_id>.+)/save$", views.toggle_saved, name="save"),  # before the papers catch-all
]
