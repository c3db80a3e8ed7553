"""The kernel both programs share: TT 01, numbers, safe text, settings, errors, catalogue rules."""
