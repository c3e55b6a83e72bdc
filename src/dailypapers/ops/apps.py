from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "dailypapers.ops"
    verbose_name = "Operations"
