"""The wire between a kiosk and `kiosk-central`: the signed batch protocol (``protocol``), the records' fields
declared once (``record_schema``) and the checks made from them (``record_checks``, ``typed_batch``), the
catalogue document (``catalog_document``)."""
