"""Authentication: JWT verification (RFC 8725), signing keys, principals and role guards."""
