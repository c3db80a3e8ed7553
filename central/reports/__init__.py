"""The figures communes quote in their reports, computed at the central server.

``periods`` (which days), ``localtime`` (the calendar of the server's time zone, in Python and in SQL), ``facts``
(a ticket's journey), ``rollups`` (derived tables kept exact at ingest) and ``rebuild``, ``query``
(rollups for whole years, quarters and months; records for the rest), ``ranking`` (the fair
ranking; the TT 01 rules themselves are in ``common.tt01``, shared with the kiosk), ``figures`` (one report as a dict), ``charts`` (server-drawn SVG). Exports live in ``central.exports``, pages in ``central.views_*``.
"""
