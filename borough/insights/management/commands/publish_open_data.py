"""``borough publish_open_data``: the same as ``borough insights publish`` (``cli/publish.py``),
until the ``borough insights`` command with its subcommands is merged; then remove this file."""

from django.core.management.base import BaseCommand

from borough.insights.cli import publish


class Command(BaseCommand):
    help = publish.HELP

    def add_arguments(self, parser):
        publish.add_arguments(parser)

    def handle(self, *args, **options):
        publish.run(self, options)
