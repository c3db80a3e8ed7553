"""`kiosk-central`: the commune or province server (ingest, registry, catalogue pages, reports, exports)."""
