"""Store locations of a program: where the card surfaces, posters hang and signups count."""
