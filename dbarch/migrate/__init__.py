"""Zero-downtime migrations: planning schema changes and rehearsing them under load."""
