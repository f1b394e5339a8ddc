"""A synthetic borough: gazetteer, residents, the council's source datasets with realistic
errors and their ground truth, and vehicles. Plain Python; Django is only needed for the
``synth`` management command."""

from .generate import DEFAULT_START_DATE, FILES, GENERATOR_VERSION, SOURCE_FILES, generate

__all__ = ["DEFAULT_START_DATE", "FILES", "GENERATOR_VERSION", "SOURCE_FILES", "generate"]
