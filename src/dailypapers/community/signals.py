"""What the community tells the apps above it, which it may not import (the layers): a comment
was posted or edited, a submission fetched in the background ended. The notifications app
listens (its AppConfig.ready connects the receivers).

Signals rather than the callers above calling up themselves: a comment is posted from the page,
the API and a submission's own comment, and a background submission ends in the queue's task
here in community, which nothing above gets to wrap. Sent inside the writer's transaction, so a
notification is committed with what it is about or not at all."""

from django.dispatch import Signal

# sender: Comment; comment: the new Comment; mentioned: the users its @names link to (its author included).
comment_posted = Signal()
# sender: Comment; comment: the edited Comment; mentioned: the users its new text links to.
comment_edited = Signal()
# sender: PendingSubmission; pending: the submission, now done (its paper listed) or failed (with its error).
submission_finished = Signal()
