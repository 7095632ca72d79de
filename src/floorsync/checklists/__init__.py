"""Checklists and templates (api-catalogue-completion §7, §9): substeps that operators tick off
inside an operation, and the templates checklists, parts and jobs are created from."""
