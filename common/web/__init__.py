"""Web plumbing both programs use: CSRF, JSON errors, input guard, error pages, translations."""
