"""The review rules, one a file; each registers itself on import."""
