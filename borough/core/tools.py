"""What each staff area holds: the tools a role sees on its area's page.

An app adds its tools here when it builds them; a tool whose page does not exist yet is not
listed, so an area never links to a page that is not there.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Tool:
    area: str
    title: str
    description: str
    url_name: str

    def url(self) -> str | None:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


TOOLS = [
    Tool(
        "administration",
        "Feedback",
        "What residents said through the feedback link.",
        "core:staff-feedback",
    ),
    Tool(
        "insights",
        "Dashboards",
        "Applications decided automatically, officer time saved, parking permits, rent "
        "collection and feedback, by period and ward, from the warehouse.",
        "insights:dashboards",
    ),
    Tool(
        "insights",
        "Feedback",
        "What residents said through the feedback link.",
        "core:staff-feedback",
    ),
    Tool(
        "insights",
        "Permit prices what-if",
        "Change the emission bands, band prices or diesel surcharge and see the revenue from "
        "the live permits, and who would pay more or less, by band and by ward.",
        "insights:whatif-permits",
    ),
    Tool(
        "insights",
        "Direct Debit collection days what-if",
        "Choose other collection days for monthly Direct Debits and see cash collected each "
        "week and arrears at each week's end.",
        "insights:whatif-direct-debit",
    ),
    Tool(
        "insights",
        "Decision notes",
        "What-ifs saved with the decision taken on them. The figures in a note never change.",
        "insights:decision-notes",
    ),
    Tool(
        "administration",
        "Gazetteer",
        "Import the address gazetteer and see what is loaded.",
        "places:staff-gazetteer",
    ),
    Tool(
        "transparency",
        "Data-use log",
        "Every recorded use of a resident's data, with its purpose and lawful basis. "
        "Filter it and download it as CSV.",
        "transparency:staff-data-use",
    ),
    Tool(
        "transparency",
        "Unusual access",
        "Officers reading many residents with no case, outside their service or at odd hours, "
        "and residents looked up again and again.",
        "transparency:staff-unusual-access",
    ),
    Tool(
        "transparency",
        "Subject access requests",
        "Requests for a copy of someone's data that came in by letter, email or phone: record "
        "them, track their deadlines, prepare the copy and mark them complete.",
        "transparency:sar-queue",
    ),
    *[
        Tool(
            area,
            "Records residents say are wrong",
            "Residents' requests to correct a record your service holds, and your answers.",
            "transparency:staff-corrections",
        )
        for area in ("parking", "housing", "finance", "residents", "transparency")
    ],
    Tool(
        "transparency",
        "Entries held back from residents",
        "Uses of residents' data recorded during an investigation and hidden from them for a "
        "time. Release one when it can be shown.",
        "transparency:held-entries",
    ),
    Tool(
        "transparency",
        "Questioned entries",
        "Residents' “I don't recognise this” questions about entries in their data-use log: "
        "see the entry and answer the resident.",
        "transparency:staff-questions",
    ),
    Tool(
        "administration",
        "Accounts and settings",
        "Staff accounts and roles, and the records behind the service (Django admin).",
        "admin:index",
    ),
    Tool(
        "residents",
        "Find a resident",
        "Search every dataset's records by name, date of birth and postcode, and see all the "
        "records linked to a resident. Each view is recorded in the data-use log.",
        "residents:find",
    ),
    Tool(
        "residents",
        "Review uncertain matches",
        "Pairs of records the last link could not settle: see them side by side and decide "
        "whether they are the same person. The next link follows your decision.",
        "residents:review-queue",
    ),
    Tool(
        "residents",
        "Check a resident's details",
        "Try the verification service: check an applicant's details for a purpose and see the "
        "decision, the reasons and the records used as evidence. Each check is recorded.",
        "residents:verify",
    ),
    Tool(
        "residents",
        "Referred verifications",
        "Checks the verification service could not settle: see the evidence and confirm the "
        "applicant, or say why you cannot.",
        "residents:referrals",
    ),
    Tool(
        "enforcement",
        "Check a vehicle",
        "Is a registration allowed to park in a zone now? Works on a phone. Each check is "
        "recorded in the data-use log.",
        "parking:enforcement-check",
    ),
    Tool(
        "parking",
        "Check a vehicle",
        "Is a registration allowed to park in a zone now? Each check is recorded.",
        "parking:enforcement-check",
    ),
    Tool(
        "parking",
        "Applications for an officer",
        "Permit applications that automatic checks could not settle, and permits waiting "
        "for proof: the evidence, and your decision.",
        "parking:staff-applications",
    ),
    Tool(
        "housing",
        "Rent accounts",
        "Find a tenant's rent account: balance, ledger, tenants and arrangements to clear "
        "arrears. Each view is recorded in the data-use log.",
        "housing:staff-search",
    ),
    Tool(
        "finance",
        "Bank statements",
        "Import the rent account's bank statement (camt.053, MT940 or CSV): payments are "
        "matched to rent accounts; the rest go to suspense.",
        "housing:finance-imports",
    ),
    Tool(
        "finance",
        "Suspense",
        "Payments matching could not place: allocate, split or return them.",
        "housing:finance-suspense",
    ),
    Tool(
        "finance",
        "Rent reports",
        "Cash received by method, suspense, arrears and credit balances.",
        "housing:finance-reports",
    ),
    Tool(
        "finance",
        "Rent accounts",
        "Find a rent account and its ledger.",
        "housing:staff-search",
    ),
    Tool(
        "parking",
        "Find a permit",
        "Search permits by registration, permit number, postcode or street; cancel and refund.",
        "parking:staff-permits",
    ),
    Tool(
        "finance",
        "Direct Debit mandates",
        "Tenants' Direct Debit Instructions: status, masked bank details and rent account.",
        "housing:dd-mandates",
    ),
    Tool(
        "finance",
        "Bacs runs",
        "Make today's Bacs run (new instructions, cancellations and collections) and download "
        "its Standard 18 file.",
        "housing:dd-runs",
    ),
    Tool(
        "finance",
        "Bacs reports",
        "Upload an ARUDD, ADDACS or AUDDIS report: unpaid Direct Debits are reversed and "
        "mandates updated.",
        "housing:dd-reports",
    ),
]


def tools_for(area: str) -> list[tuple[Tool, str]]:
    return [(tool, url) for tool in TOOLS if tool.area == area and (url := tool.url())]
