"""`dbarch lint`: migration files checked statement by statement for locks, rewrites and traps."""
