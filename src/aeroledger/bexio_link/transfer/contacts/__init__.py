"""Members' contact data to bexio through the outbox (an edit of a linked member)."""
