"""The FrePPLe adapter package: `client` (HTTP, auth, list shapes), `mapping` (pure FrePPLe JSON
⇄ canonical) and `adapter` (the call sequences)."""
