"""Both ends of the wire: the signed batch protocol, the device's outbox client and `kiosk-central`."""
