from django.contrib import admin
from django.urls import include, path

from borough.api import api

# The API first: machine clients make the most requests, and each would otherwise be tried
# against every page's pattern before reaching it.
urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("borough.core.urls")),
    path("", include("borough.places.urls")),
    path("", include("borough.residents.urls")),
    path("", include("borough.transparency.urls")),
    path("", include("borough.parking.urls")),
    path("", include("borough.payments.urls")),
    path("", include("borough.housing.urls")),
    path("", include("borough.insights.urls")),
    path("admin/", admin.site.urls),
]
