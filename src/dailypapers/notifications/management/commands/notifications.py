from django.core.management.base import BaseCommand

from dailypapers.notifications.sending import send_notification_mails


class Command(BaseCommand):
    help = ("Notification mails. `send` mails every user the notifications waiting for them, batched "
            "(the worker does this every DAILYPAPERS_NOTIFICATION_MAIL_MINUTES; safe to run at the same time).")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("send", help="send the waiting notifications now (nobody gets one twice)")

    def handle(self, *args, action: str, **options):
        self.stdout.write(f"notification mails: {send_notification_mails()}")
