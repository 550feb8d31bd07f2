"""Storage: SQLAlchemy models, the engine and session factory, repositories returning plain DTOs."""
