"""Aeroledger: billing for flight schools and aviation clubs, with a bexio integration."""
