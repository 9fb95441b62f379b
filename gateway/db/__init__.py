"""The identity database: SQLAlchemy 2 models, engines and the Alembic schema check."""
