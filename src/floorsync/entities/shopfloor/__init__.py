"""Shop-floor execution records: batches, time entries, assignments and operation quantities,
with the time-keeping rules they share. Created on the shop floor (not synced from the ERP) and
always hard-deleted. The operator directory they name operators from is entities/operators.py
(an HR system or the ERP may sync it, and operations use it too); the state machines that move
jobs, operations and batches are in lifecycle/, above this package."""
