"""The device's side of the wire: the outbox, the sync client, the catalogue it takes from its commune."""
