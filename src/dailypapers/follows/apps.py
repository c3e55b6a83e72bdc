from django.apps import AppConfig


class FollowsConfig(AppConfig):
    name = "dailypapers.follows"
    label = "follows"
    verbose_name = "Follows"
