"""Identity services: tenants, issued tokens and signing keys, over a SQLAlchemy session.

Every function takes a ``sqlalchemy.orm.Session`` and returns frozen dataclasses, never
ORM rows. Services ``flush`` so that conflicts surface as ``ConflictError`` at the call;
committing (or rolling back after an error) is the caller's job, e.g.
``with sessions() as session, session.begin(): ...``.
"""
