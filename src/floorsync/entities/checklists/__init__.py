"""Checklist entities: substeps inside an operation, and templates (substep checklists, part and
job templates); their routes: checklists/endpoints.py."""
