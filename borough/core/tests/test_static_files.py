"""The static files as production serves them: hashed names, every reference resolved."""

import json

from django.core.management import call_command

# WhiteNoise compresses as well in production (checked by .ci/production-smoke); the
# hashing and reference-following are Django's, and quicker without the compression.
PRODUCTION_STORAGE = {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}


def test_collectstatic_with_the_production_storage_resolves_every_reference(tmp_path, settings):
    """GOV.UK Frontend's stylesheet names its source map; production's storage follows that
    reference and stops if the file is missing, so every page would be a 500."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": PRODUCTION_STORAGE}
    call_command("collectstatic", interactive=False, verbosity=0)
    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in (
        "govuk-frontend.min.css",
        "govuk-frontend.min.css.map",
        "borough.mjs",
        "ninja/swagger-ui-bundle.js",
        "ninja/swagger-ui.css",
    ):
        assert paths[name] != name and (tmp_path / paths[name]).exists(), name
    css = (tmp_path / paths["govuk-frontend.min.css"]).read_text()
    assert f"sourceMappingURL={paths['govuk-frontend.min.css.map']}" in css
