"""Shop-floor execution records: the operator directory, batches, time entries, assignments and
operation quantities. Created on the shop floor (not synced from the ERP) and always hard-deleted,
except operators, which an HR system or the ERP may also sync."""
