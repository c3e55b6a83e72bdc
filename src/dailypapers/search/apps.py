from django.apps import AppConfig
from django.db.models.signals import post_delete


class SearchConfig(AppConfig):
    name = "dailypapers.search"
    verbose_name = "Search"

    def ready(self) -> None:
        from dailypapers.papers.models import Paper

        from .services import paper_deleted

        # However a paper is deleted (the admin, a shell, a cascade), it leaves the search indexes with it.
        post_delete.connect(paper_deleted, sender=Paper, dispatch_uid="search.paper_deleted")

