"""Guards on the HTTP connection: header size and time, body time, draining after answers."""
