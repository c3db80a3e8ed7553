"""Effects at the edge: button panels and LEDs (gpiozero), the ticket printer, the announcer.

Nothing here imports the kiosk's own packages; each device has a real and a fake backend chosen by
configuration.
"""
