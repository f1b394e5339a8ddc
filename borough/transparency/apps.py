from django.apps import AppConfig
from django.db.backends.signals import connection_created


class TransparencyConfig(AppConfig):
    name = "borough.transparency"
    label = "transparency"
    verbose_name = "Transparency (the data-use log)"

    def ready(self):
        from borough.transparency import db_guard

        connection_created.connect(db_guard.register, dispatch_uid="borough_log_guard")
