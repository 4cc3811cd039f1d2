"""API tokens, who the caller is, and what each role may see and do."""
