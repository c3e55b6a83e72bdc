"""The community's signals (dailypapers.community.signals), answered with notifications."""

from . import services


def comment_posted(sender, *, comment, mentioned, **kwargs) -> None:
    services.notify_comment(comment=comment, mentioned=mentioned)


def comment_edited(sender, *, comment, mentioned, **kwargs) -> None:
    # The reply was notified when the comment was posted; of the mentions, only those the edit added
    # are new (the constraints skip the others).
    services.notify_comment(comment=comment, mentioned=mentioned, reply=False)


def submission_finished(sender, *, pending, **kwargs) -> None:
    services.notify_submission(pending=pending)
