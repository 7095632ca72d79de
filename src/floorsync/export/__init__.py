"""`api-export` (api-catalogue-completion §10): a tenant's data as one file, streamed from one
read-only snapshot, built from API representations only (so whatever keeps secrets out of API
responses keeps them out of the export), ending with a completeness marker."""
