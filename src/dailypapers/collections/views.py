"""Collection pages and actions. Writes are POST-only, CSRF-checked, rate-limited and go through
services; a private collection is a 404 for anyone but its owner. Refusals (dailypapers.errors.Refused)
become the error page with their status in dailypapers.views.RefusedMiddleware."""

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dailypapers.errors import Refused
from dailypapers.papers import bibtex, citations
from dailypapers.papers.selectors import bib_papers, paper_by_raw_id
from dailypapers.views import limit_posts

from . import selectors, services
from .controls import save_control
from .forms import AddPaperForm, CollectionForm, ImportForm, NoteForm
from .models import Collection


def _signed_in(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path() if request.method == "GET" else "/collections")
        return view(request, *args, **kwargs)

    return wrapper


def _errors(form) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors)


def _collection(request: HttpRequest, pk: str) -> Collection:
    collection = selectors.visible_collection(pk=int(pk), viewer=request.user)
    if collection is None:
        raise Refused.not_found(f"No collection {pk} here.")
    return collection


@_signed_in
def mine(request: HttpRequest) -> HttpResponse:
    services.reading_list(user=request.user)
    return render(request, "collections/index.html", {
        "owner": request.user, "collections": selectors.collections_of(owner=request.user, viewer=request.user),
        "form": CollectionForm(),
    })


def of_user(request: HttpRequest, username: str) -> HttpResponse:
    owner = get_object_or_404(get_user_model(), username=username)
    return render(request, "collections/index.html", {
        "owner": owner, "collections": selectors.collections_of(owner=owner, viewer=request.user),
    })


@require_POST
@_signed_in
@limit_posts("RATE_COLLECTION")
def create(request: HttpRequest) -> HttpResponse:
    form = CollectionForm(request.POST)
    if not form.is_valid():
        raise Refused(_errors(form))
    collection = services.create_collection(user=request.user, **form.cleaned_data)
    return redirect(collection)


def detail(request: HttpRequest, pk: str) -> HttpResponse:
    collection = _collection(request, pk)
    is_owner = collection.owner_id == request.user.pk
    return render(request, "collections/detail.html", {
        "collection": collection, "items": selectors.items(collection=collection), "is_owner": is_owner,
        "form": CollectionForm(instance=collection) if is_owner else None,
        "import_form": ImportForm() if is_owner else None,
    })


def _owned_post(view: Callable) -> Callable:
    """POST actions on a collection: signed in, rate-limited, 404 when not visible."""
    @require_POST
    @_signed_in
    @limit_posts("RATE_COLLECTION")
    @wraps(view)
    def wrapper(request: HttpRequest, pk: str, *args, **kwargs):
        return view(request, _collection(request, pk), *args, **kwargs)

    return wrapper


@_owned_post
def edit(request: HttpRequest, collection: Collection) -> HttpResponse:
    form = CollectionForm(request.POST, instance=Collection.objects.get(pk=collection.pk))
    if not form.is_valid():
        raise Refused(_errors(form))
    services.update_collection(user=request.user, collection=collection, **form.cleaned_data)
    messages.success(request, "Saved.")
    return redirect(collection)


@_owned_post
def delete(request: HttpRequest, collection: Collection) -> HttpResponse:
    services.delete_collection(user=request.user, collection=collection)
    messages.success(request, f"Deleted “{collection.title}”.")
    return redirect("collections:mine")


@require_POST
@_signed_in
@limit_posts("RATE_COLLECTION")
def add(request: HttpRequest) -> HttpResponse:
    """Add a paper (an arXiv id or URL) to one of the user's collections: from the paper page's
    picker or the collection page's box."""
    form = AddPaperForm(request.POST)
    if not form.is_valid():
        raise Refused("Say which paper to add (an arXiv id or URL) and to which collection.")
    collection = _collection(request, str(form.cleaned_data["collection"]))
    paper = paper_by_raw_id(form.cleaned_data["paper"].strip())
    added = services.add_papers(user=request.user, collection=collection, papers=[paper])
    messages.success(request, f"Added to “{collection.title}”." if added else f"Already in “{collection.title}”.")
    return redirect(paper if request.POST.get("next") == "paper" else collection)


@_owned_post
def remove(request: HttpRequest, collection: Collection, raw_id: str) -> HttpResponse:
    services.remove_paper(user=request.user, collection=collection, paper=paper_by_raw_id(raw_id))
    return redirect(collection)


@_owned_post
def move(request: HttpRequest, collection: Collection, raw_id: str, direction: str) -> HttpResponse:
    services.move_paper(user=request.user, collection=collection, paper=paper_by_raw_id(raw_id),
                        offset=-1 if direction == "up" else 1)
    return redirect(f"{collection.get_absolute_url()}#paper-{raw_id}")


@_owned_post
def note(request: HttpRequest, collection: Collection, raw_id: str) -> HttpResponse:
    form = NoteForm(request.POST)
    if not form.is_valid():
        raise Refused(_errors(form))
    services.set_note(user=request.user, collection=collection, paper=paper_by_raw_id(raw_id),
                      note=form.cleaned_data["note"])
    return redirect(f"{collection.get_absolute_url()}#paper-{raw_id}")


@require_POST
@_signed_in
@limit_posts("RATE_COLLECTION_IMPORT")
def import_bib(request: HttpRequest, pk: str) -> HttpResponse:
    collection = _collection(request, pk)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        raise Refused(_errors(form) or "Choose a .bib file to import.")
    upload = form.cleaned_data["file"]
    if upload.size > services.MAX_IMPORT_BYTES:
        raise Refused(f"That file is over {services.MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    matched, added, unmatched = services.import_bib(user=request.user, collection=collection, data=upload.read())
    return render(request, "collections/imported.html", {  # matched counts entries, added papers
        "collection": collection, "matched": matched, "added": added, "already": matched - added,
        "unmatched": unmatched,
    })


@require_POST
@_signed_in
@limit_posts("RATE_COLLECTION")
def toggle_saved(request: HttpRequest, raw_id: str) -> HttpResponse:
    paper = paper_by_raw_id(raw_id)
    saved = services.toggle_saved(user=request.user, paper=paper)
    if request.headers.get("HX-Request"):
        return HttpResponse(save_control(paper_id=paper.arxiv_id, saved=saved, signed_in=True,
                                         csrf_token=get_token(request), next_path=request.POST.get("next", "")))
    messages.success(request, "Saved to your Reading list." if saved else "Taken off your Reading list.")
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else paper.get_absolute_url())


def export(request: HttpRequest, pk: str, fmt: str) -> HttpResponse:
    collection = _collection(request, pk)
    papers = bib_papers(papers=selectors.papers(collection=collection))
    if fmt == "bib":
        body, content_type = bibtex.bibliography(papers), "application/x-bibtex; charset=utf-8"
    elif fmt == "ris":
        body, content_type = citations.ris(papers), "application/x-research-info-systems; charset=utf-8"
    else:
        body = json.dumps(citations.csl_json(papers), ensure_ascii=False, indent=2)
        content_type = "application/vnd.citationstyles.csl+json; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="collection-{collection.pk}.{fmt}"'
    if not collection.is_public:
        response["Cache-Control"] = "private, no-store"
    return response
