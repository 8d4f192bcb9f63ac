"""Members: customers enrolled in a program, each with a card."""
