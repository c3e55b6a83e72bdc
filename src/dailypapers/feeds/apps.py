from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "dailypapers.feeds"
    verbose_name = "Feeds"
