"""Dashboard-style queries on the warehouse that the ``warehouse`` benchmark times (p95 target
300 ms on 10,000,000 ledger entries). Each dashboard adds the queries its pages run, by name:
``QUERIES["permits_by_zone"] = "SELECT …"``. Only the warehouse's own tables, no parameters."""

QUERIES: dict[str, str] = {
    "rent_collected_by_method_and_month": """
        SELECT d.month_start, m.method_group, -sum(f.amount_pence) AS collected_pence
        FROM fact_rent_ledger f
        JOIN dim_payment_method m ON m.payment_method = f.payment_method
        JOIN dim_date d ON d.date = f.posted_on
        WHERE m.is_payment GROUP BY ALL ORDER BY ALL""",
    "arrears_by_ward": """
        SELECT w.ward_name, count(*) FILTER (WHERE a.balance_pence > 0) AS in_arrears,
               sum(greatest(a.balance_pence, 0)) AS arrears_pence
        FROM dim_rent_account a JOIN dim_ward w ON w.ward_code = a.ward_code
        GROUP BY ALL ORDER BY ALL""",
    "arrears_trend_weekly": """
        SELECT week_starting, sum(sum(amount_pence)) OVER (ORDER BY week_starting) AS balance
        FROM fact_rent_ledger GROUP BY week_starting ORDER BY week_starting""",
    "rent_by_ward_and_tenure_last_quarter": """
        SELECT ward_code, tenure, sum(amount_pence) FILTER (WHERE amount_pence > 0) AS charged,
               -sum(amount_pence) FILTER (WHERE amount_pence < 0) AS paid
        FROM fact_rent_ledger
        WHERE posted_on >= (SELECT max(posted_on) FROM fact_rent_ledger) - INTERVAL 91 DAY
        GROUP BY ALL ORDER BY ALL""",
    "permits_by_zone_and_band": """
        SELECT zone_code, band, count(*) AS permits FROM fact_permit
        WHERE status IN ('active', 'proof_needed') GROUP BY ALL ORDER BY ALL""",
    "permit_revenue_and_refunds_by_month": """
        SELECT year, month, sum(paid_pence) AS paid, sum(refunded_pence) AS refunded
        FROM fact_permit GROUP BY ALL ORDER BY ALL""",
    "applications_decided_automatically_by_ward_and_month": """
        SELECT ward_code, year, month, avg(CAST(decided_automatically AS INTEGER)) AS share,
               count(*) AS applications
        FROM fact_permit_application GROUP BY ALL ORDER BY ALL""",
}
