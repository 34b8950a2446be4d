"""Ready networks built with neuroport's public API."""
