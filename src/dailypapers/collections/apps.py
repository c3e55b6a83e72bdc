from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "dailypapers.collections"
    label = "collections"
    verbose_name = "Collections"
