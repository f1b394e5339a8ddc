"""Record linkage: source records into residents (Splink on DuckDB), stable resident IDs,
clerical decisions and evaluation. See ``docs/linkage.md``."""
