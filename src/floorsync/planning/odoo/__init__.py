"""The Odoo adapter package: two transports behind one interface (`jsonrpc`, `json2`), the
field names per version (`profiles`), the pure mapping (`mapping`) and the call sequences
(`adapter`)."""
