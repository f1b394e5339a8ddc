"""``borough housing …``: rent accounts, Direct Debit and bank statements.

borough housing import-statement FILE [--format camt.053|mt940|csv] [--csv-mapping FILE.toml]
borough housing post-charges [--week YYYY-MM-DD]
borough housing bacs-run [--input-date YYYY-MM-DD]            (Direct Debit: direct_debit_cli.py)
borough housing import-bacs-report FILE                         (ARUDD / ADDACS / AUDDIS)
borough housing rotate-bank-key
"""

from django.core.management.base import BaseCommand

from borough.housing import direct_debit_cli, statement_cli
from borough.transparency.coverage import RESIDENT_DATA, data_use


class Command(BaseCommand):
    help = "Rent accounts, Direct Debit and bank statements. Subcommands: see --help."
    # Run by officers and cron for a day's work; the system checks (every URL and view
    # imported, about 2 s) belong to `borough check` and deployment, not to each import.
    requires_system_checks: list[str] = []
    data_use_by_subcommand = {
        "import-statement": data_use(touches=RESIDENT_DATA, purpose="housing_payment_matching"),
        "post-charges": data_use(
            touches=RESIDENT_DATA, purpose="housing_rent_account_administration"
        ),
        "daily": data_use(touches=RESIDENT_DATA, purpose="housing_rent_account_administration"),
        "load": data_use(touches=RESIDENT_DATA, purpose="housing_rent_account_administration"),
        "bacs-run": data_use(touches=RESIDENT_DATA, purpose="housing_direct_debit_collection"),
        "import-bacs-report": data_use(
            touches=RESIDENT_DATA, purpose="housing_direct_debit_collection"
        ),
        "rotate-bank-key": data_use(
            none="Re-encrypts stored bank details under a new key; nobody reads them"
        ),
    }

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        statement_cli.add_arguments(subcommands)
        direct_debit_cli.add_arguments(subcommands)

    def handle(self, *args, subcommand: str, **options):
        if subcommand in statement_cli.SUBCOMMANDS:
            statement_cli.handle(self, subcommand, options)
        else:
            direct_debit_cli.handle(self, subcommand, options)
