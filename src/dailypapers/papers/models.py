from django.conf import settings
from django.db import models
from django.urls import reverse

from dailypapers.limits import MAX_SLUG_LENGTH

# Mirrored avatars are stored under this prefix, named after a hash of the address they came from.
AVATAR_MIRROR_PREFIX = "organizations/mirror-"


class Organization(models.Model):
    """A lab or company that papers are published under (as on Hugging Face)."""

    slug = models.SlugField(max_length=MAX_SLUG_LENGTH, unique=True)
    name = models.CharField(max_length=200)
    avatar_url = models.URLField(max_length=500, blank=True, help_text="Imported (Hugging Face)")
    # The Hugging Face id as sent, which may not be a valid slug ("foo.bar"): the slug is
    # derived from it (records.organization_slug) and the HF-compatible API reports it back.
    hf_name = models.CharField(max_length=200, blank=True, help_text="Its name on Hugging Face, if imported")
    avatar = models.ImageField(upload_to="organizations/", blank=True, help_text="Uploaded here")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("papers:organization", args=[self.slug])

    @property
    def avatar_is_mirror(self) -> bool:
        """Whether the stored avatar is our copy of the imported one (avatars.mirror_organization_avatar)."""
        return bool(self.avatar) and (self.avatar.name or "").startswith(AVATAR_MIRROR_PREFIX)

    @property
    def avatar_src(self) -> str:
        """What the API reports: an avatar uploaded here, else the imported address as it came."""
        if self.avatar and not self.avatar_is_mirror:
            return self.avatar.url
        return self.avatar_url or (self.avatar.url if self.avatar else "")

    @property
    def page_avatar(self) -> str:
        """What pages show: a file of our own media store only (uploaded, or mirrored at ingest),
        never a third party's address, which would leak visitors to it and be empty offline."""
        return self.avatar.url if self.avatar else ""

    @property
    def initials(self) -> str:
        """Up to two letters for an organization without an avatar ("Meta AI" -> "MA")."""
        words = [w for w in self.name.replace("-", " ").replace("_", " ").split() if w[:1].isalnum()]
        return "".join(w[0] for w in words[:2]).upper() or self.slug[:2].upper()


class Author(models.Model):
    """A name as it appears on papers. arXiv gives names only, so the name is the identity."""

    name = models.CharField(max_length=300, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("papers:author", args=[self.pk])


class Paper(models.Model):
    arxiv_id = models.CharField(max_length=64, unique=True, help_text="Versionless, e.g. 2305.12345 or hep-th/9901001")
    version = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Latest arXiv version seen")
    title = models.TextField()
    abstract = models.TextField(blank=True)
    authors = models.ManyToManyField(Author, through="Authorship", related_name="papers")
    categories = models.JSONField(default=list, blank=True, help_text="arXiv categories, primary first")
    primary_category = models.CharField(max_length=32, blank=True, db_index=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    comments = models.TextField(blank=True)
    journal_ref = models.TextField(blank=True)
    doi = models.CharField(max_length=255, blank=True)
    github_repo = models.URLField(max_length=500, blank=True)
    github_stars = models.PositiveIntegerField(null=True, blank=True)
    project_page = models.URLField(max_length=500, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="papers"
    )
    # Hugging Face's own summary and keywords, as imported.
    ai_summary = models.TextField(blank=True)
    ai_keywords = models.JSONField(default=list, blank=True)
    # Imported from Hugging Face as sent; the HF-compatible API reports them back.
    ai_summary_model = models.CharField(max_length=200, blank=True, help_text="The model that wrote ai_summary")
    github_repo_added_by = models.CharField(max_length=32, blank=True, help_text="Who linked the repo on HF")
    media_urls = models.JSONField(default=list, blank=True, help_text="Videos and images the submitter attached")
    # Keywords extracted here from the title and abstract (search.keywords) for papers Hugging Face
    # gave none, by this embedder, from the text whose hash is keywords_text_hash (the hash of the
    # paper's vector: a new version's text is extracted again).
    extracted_keywords = models.JSONField(default=list, blank=True)
    keywords_model = models.CharField(max_length=100, blank=True)
    keywords_text_hash = models.CharField(max_length=40, blank=True)
    # A one-line summary from the configured language model (papers.summaries) for papers Hugging
    # Face gave none: its text, the model's name, the hash of the title and abstract it summarises,
    # and when it was last checked against the paper's text.
    llm_summary = models.TextField(blank=True)
    llm_summary_model = models.CharField(max_length=200, blank=True)
    llm_summary_hash = models.CharField(max_length=64, blank=True)
    llm_summary_checked_at = models.DateTimeField(null=True, blank=True)
    # Counts imported from Hugging Face, and the totals shown (imported + local).
    imported_upvotes = models.PositiveIntegerField(default=0)
    upvotes = models.PositiveIntegerField(default=0, db_index=True)
    imported_comments = models.PositiveIntegerField(default=0)
    num_comments = models.PositiveIntegerField(default=0)
    comments_locked = models.BooleanField(default=False, help_text="Moderators lock a discussion")
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"{self.arxiv_id}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("papers:paper", args=[self.arxiv_id])

    @property
    def keywords(self) -> list[str]:
        """The keywords shown: Hugging Face's, else the ones extracted here."""
        return [str(k) for k in (self.ai_keywords or self.extracted_keywords or [])]

    @property
    def keywords_from(self) -> str | None:
        """Where the shown keywords come from: "huggingface", "extracted", or None without any."""
        if self.ai_keywords:
            return "huggingface"
        return "extracted" if self.extracted_keywords else None

    @property
    def keywords_label(self) -> str:
        """The method, named where the keywords are shown."""
        if self.keywords_from == "huggingface":
            return "keywords: from Hugging Face"
        return f"keywords: extracted by {self.keywords_model}" if self.keywords_from else ""

    @property
    def summary(self) -> str:
        """The one-line summary shown: Hugging Face's, else the language model's (or none)."""
        return self.ai_summary or self.llm_summary

    @property
    def summary_from(self) -> str | None:
        """"huggingface", "llm", or None without a summary."""
        if self.ai_summary:
            return "huggingface"
        return "llm" if self.llm_summary else None

    @property
    def summary_label(self) -> str:
        if self.summary_from == "huggingface":
            return "summary: from Hugging Face"
        return f"summary: generated by {self.llm_summary_model}" if self.summary_from else ""

    @property
    def summary_model(self) -> str:
        """The model that wrote the summary shown ("" when unknown or none)."""
        if self.ai_summary:
            return self.ai_summary_model
        return self.llm_summary_model if self.llm_summary else ""

    @property
    def local_comments(self) -> int:
        """Comments written here (num_comments also counts the ones imported from Hugging Face)."""
        return max(self.num_comments - self.imported_comments, 0)

    @property
    def hf_discussion_url(self) -> str:
        """Where the imported comments are: the paper's discussion on Hugging Face."""
        return f"https://huggingface.co/papers/{self.arxiv_id}#community"

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.arxiv_id}"

    @property
    def github_name(self) -> str:
        """'owner/repo' for a GitHub URL, for display."""
        prefix = "https://github.com/"
        return self.github_repo[len(prefix):].strip("/") if self.github_repo.startswith(prefix) else self.github_repo


class SummaryCache(models.Model):
    """Summaries the language model wrote, per paper, keyed by (content hash, model): a paper whose
    text and model are the same as before gets its summary again without asking the model."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="summary_cache")
    content_hash = models.CharField(max_length=64)
    model = models.CharField(max_length=200)
    summary = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["paper", "content_hash", "model"], name="unique_summary_per_text_and_model")
        ]

    def __str__(self) -> str:
        return f"{self.model} summary of {self.paper.arxiv_id}"


class Authorship(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="authorships")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="authorships")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["paper", "position"], name="unique_author_position")]
        indexes = [models.Index(fields=["author", "paper"])]

    def __str__(self) -> str:
        return f"{self.author} at {self.position} on {self.paper.arxiv_id}"


class HubUser(models.Model):
    """A Hugging Face user who submitted an imported listing: what HF's API said of them, so the
    HF-compatible API can say it back. DailyEntry.submitter_name names one (they have no account here)."""

    name = models.CharField(max_length=150, unique=True, help_text="The user name on Hugging Face")
    fullname = models.CharField(max_length=200, blank=True)
    avatar_url = models.CharField(max_length=500, blank=True, help_text="As sent: absolute or a path on HF")
    hf_id = models.CharField(max_length=24, blank=True, help_text="HF's 24-hex id, when it sent one")
    is_pro = models.BooleanField(default=False)
    # The day of the list this was read from: an older list's import never overwrites a newer one's.
    seen_on = models.DateField()

    class Meta:
        verbose_name = "Hugging Face user"

    def __str__(self) -> str:
        return self.name


class DailyEntry(models.Model):
    """A paper on the daily list of one feed day (the list's day, not the arXiv date)."""

    class Source(models.TextChoices):
        COMMUNITY = "community"
        HF_IMPORT = "hf-import"
        ADMIN = "admin"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="daily_entries")
    day = models.DateField(db_index=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="daily_entries"
    )
    # For imported entries the submitter is a Hugging Face user with no account here.
    submitter_name = models.CharField(max_length=150, blank=True)
    submitted_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.COMMUNITY)

    class Meta:
        verbose_name_plural = "daily entries"
        ordering = ["-day", "submitted_at"]
        constraints = [models.UniqueConstraint(fields=["paper", "day"], name="unique_paper_per_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.paper.arxiv_id}"

    @property
    def submitter_display(self) -> str:
        return self.submitted_by.get_username() if self.submitted_by else self.submitter_name


class HarvestState(models.Model):
    """Where an OAI-PMH harvest stands, so an interrupted one resumes instead of starting over."""

    key = models.CharField(max_length=500, unique=True, help_text="endpoint, prefix, set, from, until")
    resumption_token = models.CharField(max_length=500, blank=True)
    pages_done = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
