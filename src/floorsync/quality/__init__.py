"""Quality records (api-catalogue-completion §6, §8): the tenant's scrap-reason catalogue that
operation quantities reference, and quality issues and NCRs raised against operations."""
