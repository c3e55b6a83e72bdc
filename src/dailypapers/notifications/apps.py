from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "dailypapers.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # community sends these signals; it may not import this app (the layers), so it is told here.
        from dailypapers.community import signals

        from . import receivers

        signals.comment_posted.connect(receivers.comment_posted, dispatch_uid="notifications.comment_posted")
        signals.comment_edited.connect(receivers.comment_edited, dispatch_uid="notifications.comment_edited")
        signals.submission_finished.connect(receivers.submission_finished,
                                            dispatch_uid="notifications.submission_finished")
