"""Context for audit records: author names (users table) and IP classes (ip_info table)."""
