"""The synthetic borough, loaded and linked into a resident index once per module, for the
tenant pages that verify through it."""

from borough.residents.tests.conftest import loaded, synth  # noqa: F401
from borough.residents.tests.verification.conftest import index_folder, linked  # noqa: F401
