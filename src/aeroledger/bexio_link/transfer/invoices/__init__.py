"""Invoices to bexio (the plan, the outbox sender) and their status and payments back."""
