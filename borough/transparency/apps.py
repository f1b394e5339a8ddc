from django.apps import AppConfig
from django.db.backends.signals import connection_created

RETENTION_TAG = "retention"


class TransparencyConfig(AppConfig):
    name = "borough.transparency"
    label = "transparency"
    verbose_name = "Transparency (the data-use log)"

    def ready(self):
        from django.core import checks

        from borough.transparency import db_guard
        from borough.transparency.record_retention import check_retention_schedule

        connection_created.connect(db_guard.register, dispatch_uid="borough_log_guard")
        # tagged, like the verification policies: the residents commands that load the
        # datasets report a bad declaration themselves
        checks.register(check_retention_schedule, RETENTION_TAG)
