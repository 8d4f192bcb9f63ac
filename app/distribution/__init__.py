"""Getting the card to customers: signup links, in-store QR posters."""
