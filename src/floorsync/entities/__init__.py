"""Every entity floorsync serves, as a spec (fields, references, children, hooks), and the
generic machinery that validates, stores, renders and routes any spec. registry.py lists them
once; the ERP's master data is at this level (with the operator directory), the shop floor's
records in shopfloor/."""
