from django.apps import AppConfig


class PersonalConfig(AppConfig):
    name = "dailypapers.personal"
    label = "personal"
    verbose_name = "For you"
