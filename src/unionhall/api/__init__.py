"""The JSON API under /api/: token or session auth, OpenAPI schema at /api/schema/."""
