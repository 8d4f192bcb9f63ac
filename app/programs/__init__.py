"""Programs: a merchant's loyalty program and the design of its card."""
