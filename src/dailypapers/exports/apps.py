from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "dailypapers.exports"
    verbose_name = "Exports"
