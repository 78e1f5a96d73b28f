"""The gate spec: its pydantic models, the strict YAML/JSON reader they are loaded with, and their JSON Schema."""
