"""Staff pages of the resident index, mounted at the site root (each pattern starts ``staff/``)."""

from borough.residents import record_views, review_views, verification_views

app_name = "residents"

urlpatterns = [
    *record_views.urlpatterns,
    *review_views.urlpatterns,
    *verification_views.urlpatterns,
]
