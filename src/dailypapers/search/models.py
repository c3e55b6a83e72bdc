from django.db import models

from dailypapers.papers.models import Paper


class PaperVector(models.Model):
    """A paper's embedding (title + abstract), computed once by the indexing job.

    The database is the source of truth; the vector index is rebuilt from here.
    `text_hash` tells when a new arXiv version changed the text, so the vector is
    recomputed; `model_id` keeps vectors of different models apart.
    """

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, primary_key=True, related_name="vector")
    model_id = models.CharField(max_length=100)
    text_hash = models.CharField(max_length=40)
    vector = models.BinaryField(help_text="float32, L2-normalised")
    # Set on every write: the vector index catches up on rows updated since its last sync.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["model_id"])]

    def __str__(self) -> str:
        return f"{self.model_id} vector of {self.paper.arxiv_id}"


class IndexState(models.Model):
    """How far each derived index has caught up with the papers table (one row per index)."""

    name = models.CharField(max_length=50, unique=True)
    indexed_until = models.DateTimeField(null=True, blank=True, help_text="papers modified up to here are in")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name
