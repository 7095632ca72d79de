"""Quality entities: issues and NCRs raised against operations, and the scrap-reason catalogue
(their routes: quality/endpoints.py)."""
