"""Staff pages of the resident index, mounted at the site root (each pattern starts ``staff/``),
and the resident's code by post before "How we used your data" (``history_code_views``)."""

from borough.residents import (
    history_code_views,
    record_views,
    review_views,
    verification_views,
)

app_name = "residents"

urlpatterns = [
    *record_views.urlpatterns,
    *review_views.urlpatterns,
    *verification_views.urlpatterns,
    *history_code_views.urlpatterns,
]
