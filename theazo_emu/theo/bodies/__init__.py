"""Request bodies of the Theo surface, declared once as pydantic models: validation and OpenAPI."""
