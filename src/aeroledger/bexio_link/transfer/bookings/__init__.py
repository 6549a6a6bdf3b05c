"""Bookings in bexio's ledger for members' credit (the plan, the outbox sender)."""
