"""The one-stop counter kiosk: queue tickets and satisfaction ratings for commune service counters."""

__version__ = "0.1.0"
