from django.apps import AppConfig


class LeadrelayConfig(AppConfig):
    name = "leadrelay"
    verbose_name = "leadrelay"
