"""The outbox: one durable, leased, exactly-once queue of every write Aeroledger makes to bexio.

- `models.OutboxItem` / `OutboxAttempt`: the items and their log (see transfer/models.py).
- `enqueue`: add writes, wake a worker, retry failed ones, progress.
- `queue`: due items, leases, claims (the leased work queue).
- `worker`: the loop that claims, paces, retries and records (`run_outbox`).
- `senders`: what a kind of write implements (send, and find what a lost answer created).
- `outcome`: what happens when an attempt fails, in one function.
"""
