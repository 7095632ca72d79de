"""Request and answer examples of the OpenAPI document, captured from a real run of floorsync
(a fresh tenant; cells, jobs with parts and routings, a sync, a bulk sync with one bad record,
a unified ERP sync, lifecycle actions, a batch, the change feed). tests/ops/test_openapi_complete.py
checks every one against the schema it illustrates, so they stay true when the wire changes."""

from typing import Any

JOB_CREATE_REQUEST: Any = {
    "job_number": "J-1001",
    "customer_name": "Acme BV",
    "due_date": "2026-12-31",
    "priority": 2,
    "parts": [
        {
            "part_number": "P-10",
            "quantity": 10,
            "material": "S235JR",
            "operations": [
                {
                    "operation_name": "Laser cutting",
                    "cell_name": "Laser",
                    "sequence": 1,
                    "estimated_time": 45,
                    "setup_time": 15,
                }
            ],
        }
    ],
}
JOB_CREATE_REPLY: Any = {
    "job": {
        "id": "01a24ec9-456a-7bcc-b7c3-a6dafd9d4fac",
        "job_number": "J-1001",
        "customer": "Acme BV",
        "due_date": "2026-12-31T00:00:00.000Z",
        "due_date_override": None,
        "status": "not_started",
        "priority": 2,
        "notes": None,
        "current_cell_id": None,
        "delivery_address": None,
        "delivery_city": None,
        "delivery_postal_code": None,
        "delivery_country": None,
        "total_weight_kg": None,
        "total_volume_m3": None,
        "package_count": None,
        "started_at": None,
        "paused_at": None,
        "resumed_at": None,
        "completed_at": None,
        "actual_duration": None,
        "template_id": None,
        "external_id": None,
        "external_source": None,
        "synced_at": None,
        "sync_hash": None,
        "created_at": "2026-12-07T04:35:43.084Z",
        "updated_at": "2026-12-07T04:35:43.084Z",
        "deleted_at": None,
        "deleted_by": None,
        "parts": [
            {
                "id": "01a24ec9-456a-7acc-bdb8-93b0949a5418",
                "job_id": "01a24ec9-456a-7bcc-b7c3-a6dafd9d4fac",
                "part_number": "P-10",
                "material": "S235JR",
                "material_id": None,
                "quantity": 10,
                "status": "not_started",
                "parent_part_id": None,
                "current_cell_id": None,
                "drawing_no": None,
                "cnc_program_name": None,
                "is_bullet_card": False,
                "file_paths": [],
                "image_paths": [],
                "material_lot": None,
                "material_supplier": None,
                "material_cert_number": None,
                "weight_kg": None,
                "length_mm": None,
                "width_mm": None,
                "height_mm": None,
                "notes": None,
                "started_at": None,
                "completed_at": None,
                "template_id": None,
                "external_id": None,
                "external_source": None,
                "synced_at": None,
                "sync_hash": None,
                "created_at": "2026-12-07T04:35:43.095Z",
                "updated_at": "2026-12-07T04:35:43.095Z",
                "deleted_at": None,
                "deleted_by": None,
                "operations": [
                    {
                        "id": "01a24ec9-456a-7d25-a26a-2bca1317fbd6",
                        "part_id": "01a24ec9-456a-7acc-bdb8-93b0949a5418",
                        "cell_id": "01a24ec9-44bb-7694-84c8-1f2794ab654c",
                        "operation_name": "Laser cutting",
                        "sequence": 1,
                        "status": "not_started",
                        "estimated_time": 45,
                        "setup_time": 15,
                        "run_time_per_unit": 0,
                        "wait_time": 0,
                        "changeover_time": 0,
                        "actual_time": 0,
                        "completion_percentage": 0,
                        "assigned_operator_id": None,
                        "planned_start": None,
                        "planned_end": None,
                        "icon_name": None,
                        "notes": None,
                        "started_at": None,
                        "paused_at": None,
                        "resumed_at": None,
                        "completed_at": None,
                        "external_id": None,
                        "external_source": None,
                        "synced_at": None,
                        "sync_hash": None,
                        "created_at": "2026-12-07T04:35:43.123Z",
                        "updated_at": "2026-12-07T04:35:43.123Z",
                        "deleted_at": None,
                        "deleted_by": None,
                        "resources": [],
                        "metadata": {},
                    }
                ],
                "metadata": {},
            }
        ],
        "metadata": {},
    }
}

JOB_SYNC_REQUEST: Any = {
    "external_id": "SO-1002",
    "external_source": "SAP",
    "job_number": "J-1002",
    "customer_name": "Acme BV",
    "due_date": "2026-12-31",
    "parts": [
        {
            "external_id": "SO-1002-10",
            "part_number": "P-10",
            "quantity": 4,
            "operations": [
                {
                    "external_id": "SO-1002-10-1",
                    "operation_name": "Laser cutting",
                    "cell_name": "Laser",
                    "estimated_time": 45,
                }
            ],
        }
    ],
}
JOB_SYNC_REPLY: Any = {
    "job": {
        "id": "01a24ec9-46e7-7235-8d5e-7bb82cb21061",
        "job_number": "J-1002",
        "customer": "Acme BV",
        "due_date": "2026-12-31T00:00:00.000Z",
        "due_date_override": None,
        "status": "not_started",
        "priority": 0,
        "notes": None,
        "current_cell_id": None,
        "delivery_address": None,
        "delivery_city": None,
        "delivery_postal_code": None,
        "delivery_country": None,
        "total_weight_kg": None,
        "total_volume_m3": None,
        "package_count": None,
        "started_at": None,
        "paused_at": None,
        "resumed_at": None,
        "completed_at": None,
        "actual_duration": None,
        "template_id": None,
        "external_id": "SO-1002",
        "external_source": "SAP",
        "synced_at": "2026-12-07T04:35:43.485Z",
        "sync_hash": "53d6b4f09ebf8adef4ff05debe5beac8ef2ae3b62916b7298fea0729edbd168c",
        "created_at": "2026-12-07T04:35:43.485Z",
        "updated_at": "2026-12-07T04:35:43.485Z",
        "deleted_at": None,
        "deleted_by": None,
        "parts": [
            {
                "id": "01a24ec9-46f6-7bd5-9698-aa11c4e8b6dc",
                "part_number": "P-10",
                "material": None,
                "quantity": 4,
                "status": "not_started",
                "external_id": "SO-1002-10",
            }
        ],
        "metadata": {},
    },
    "action": "created",
    "id": "01a24ec9-46e7-7235-8d5e-7bb82cb21061",
    "external_id": "SO-1002",
    "external_source": "SAP",
    "children": {
        "parts": [
            {
                "index": 0,
                "external_id": "SO-1002-10",
                "id": "01a24ec9-46f6-7bd5-9698-aa11c4e8b6dc",
                "action": "created",
                "children": {
                    "operations": [
                        {
                            "index": 0,
                            "external_id": "SO-1002-10-1",
                            "id": "01a24ec9-46fd-78f1-ac6a-c3583ef1c790",
                            "action": "created",
                        }
                    ]
                },
            }
        ]
    },
}

JOB_BULK_SYNC_REQUEST: Any = {
    "items": [
        {
            "external_id": "SO-1003",
            "external_source": "SAP",
            "job_number": "J-1003",
            "customer_name": "Acme BV",
            "due_date": "2027-01-15",
        },
        {
            "external_id": "SO-1002",
            "external_source": "SAP",
            "job_number": "J-1002",
            "customer_name": "Acme Metal BV",
            "due_date": "2026-12-31",
            "parts": [
                {
                    "external_id": "SO-1002-10",
                    "part_number": "P-10",
                    "quantity": 4,
                    "operations": [
                        {
                            "external_id": "SO-1002-10-1",
                            "operation_name": "Laser cutting",
                            "cell_name": "Laser",
                            "estimated_time": 45,
                        }
                    ],
                }
            ],
        },
        {"external_id": "SO-1004", "external_source": "SAP", "customer_name": "Acme BV"},
    ]
}
JOB_BULK_SYNC_REPLY: Any = {
    "total": 3,
    "created": 1,
    "updated": 1,
    "skipped": 0,
    "failed": 1,
    "deleted": 0,
    "records": [
        {
            "index": 0,
            "external_id": "SO-1003",
            "external_source": "SAP",
            "id": "01a24ec9-477b-72a5-9139-84141dddd388",
            "action": "created",
        },
        {
            "index": 1,
            "external_id": "SO-1002",
            "external_source": "SAP",
            "id": "01a24ec9-46e7-7235-8d5e-7bb82cb21061",
            "action": "updated",
            "children": {
                "parts": [
                    {
                        "index": 0,
                        "external_id": "SO-1002-10",
                        "id": "01a24ec9-46f6-7bd5-9698-aa11c4e8b6dc",
                        "action": "skipped",
                        "skipped_reason": "unchanged",
                        "children": {
                            "operations": [
                                {
                                    "index": 0,
                                    "external_id": "SO-1002-10-1",
                                    "id": "01a24ec9-46fd-78f1-ac6a-c3583ef1c790",
                                    "action": "skipped",
                                    "skipped_reason": "unchanged",
                                }
                            ]
                        },
                    }
                ]
            },
        },
        {
            "index": 2,
            "external_id": "SO-1004",
            "external_source": "SAP",
            "id": None,
            "action": "error",
            "error": "✗ 1 validation error(s) in job",
            "code": "VALIDATION_ERROR",
            "details": [
                {
                    "field": "job_number",
                    "message": "Missing required string field: job_number",
                    "constraint": "NOT_NULL",
                }
            ],
        },
    ],
    "results": {
        "created": 1,
        "updated": 1,
        "skipped": 0,
        "failed": 1,
        "deleted": 0,
        "errors": [
            {
                "index": 2,
                "external_id": "SO-1004",
                "item": {
                    "external_id": "SO-1004",
                    "external_source": "SAP",
                    "customer_name": "Acme BV",
                },
                "error": "✗ 1 validation error(s) in job",
            }
        ],
    },
    "children": {
        "parts": {"created": 0, "updated": 0, "skipped": 1, "failed": 0, "deleted": 0},
        "operations": {"created": 0, "updated": 0, "skipped": 1, "failed": 0, "deleted": 0},
    },
    "group_id": "01a24ec9-479b-7a71-825c-a00002c31684",
    "dry_run": False,
    "committed": True,
}

ERP_DIFF_REQUEST: Any = {
    "source": "SAP",
    "cells": [{"external_id": "WC-BEND", "external_source": "SAP", "name": "Press brake"}],
    "jobs": [
        {
            "external_id": "SO-1005",
            "external_source": "SAP",
            "job_number": "J-1005",
            "customer_name": "Acme BV",
            "parts": [
                {
                    "external_id": "SO-1005-10",
                    "part_number": "P-20",
                    "quantity": 2,
                    "operations": [
                        {
                            "external_id": "SO-1005-10-1",
                            "operation_name": "Bending",
                            "cell_external_id": "WC-BEND",
                            "cell_external_source": "SAP",
                            "estimated_time": 20,
                        }
                    ],
                }
            ],
        }
    ],
}
ERP_DIFF_REPLY: Any = {
    "summary": {
        "total_entities": 2,
        "total_records": 2,
        "total_to_create": 2,
        "total_to_update": 0,
        "total_unchanged": 0,
        "total_to_delete": 0,
        "total_errors": 0,
    },
    "entities": {
        "cells": {
            "entity_type": "cells",
            "total": 1,
            "to_create": 1,
            "to_update": 0,
            "unchanged": 0,
            "to_delete": 0,
            "errors": 0,
            "records": [
                {
                    "index": 0,
                    "external_id": "WC-BEND",
                    "external_source": "SAP",
                    "status": "create",
                    "existing_id": None,
                }
            ],
        },
        "jobs": {
            "entity_type": "jobs",
            "total": 1,
            "to_create": 1,
            "to_update": 0,
            "unchanged": 0,
            "to_delete": 0,
            "errors": 0,
            "records": [
                {
                    "index": 0,
                    "external_id": "SO-1005",
                    "external_source": "SAP",
                    "status": "create",
                    "existing_id": None,
                    "children": {
                        "parts": [
                            {
                                "index": 0,
                                "external_id": "SO-1005-10",
                                "status": "create",
                                "existing_id": None,
                                "children": {
                                    "operations": [
                                        {
                                            "index": 0,
                                            "external_id": "SO-1005-10-1",
                                            "status": "create",
                                            "existing_id": None,
                                        }
                                    ]
                                },
                            }
                        ]
                    },
                }
            ],
        },
    },
}

ERP_SYNC_REQUEST: Any = {
    "source": "SAP",
    "cells": [{"external_id": "WC-BEND", "external_source": "SAP", "name": "Press brake"}],
    "jobs": [
        {
            "external_id": "SO-1005",
            "external_source": "SAP",
            "job_number": "J-1005",
            "customer_name": "Acme BV",
            "parts": [
                {
                    "external_id": "SO-1005-10",
                    "part_number": "P-20",
                    "quantity": 2,
                    "operations": [
                        {
                            "external_id": "SO-1005-10-1",
                            "operation_name": "Bending",
                            "cell_external_id": "WC-BEND",
                            "cell_external_source": "SAP",
                            "estimated_time": 20,
                        }
                    ],
                }
            ],
        }
    ],
}
ERP_SYNC_REPLY: Any = {
    "summary": {
        "total_entities": 2,
        "total_records": 2,
        "total_created": 2,
        "total_updated": 0,
        "total_skipped": 0,
        "total_deleted": 0,
        "total_errors": 0,
        "duration_ms": 52,
    },
    "entities": {
        "cells": {
            "total": 1,
            "created": 1,
            "updated": 0,
            "skipped": 0,
            "deleted": 0,
            "errors": 0,
            "results": [
                {
                    "index": 0,
                    "external_id": "WC-BEND",
                    "external_source": "SAP",
                    "id": "01a24ec9-4862-73a9-8a15-b001b4d3d566",
                    "action": "created",
                }
            ],
            "duration_ms": 7,
        },
        "jobs": {
            "total": 1,
            "created": 1,
            "updated": 0,
            "skipped": 0,
            "deleted": 0,
            "errors": 0,
            "results": [
                {
                    "index": 0,
                    "external_id": "SO-1005",
                    "external_source": "SAP",
                    "id": "01a24ec9-486c-70d0-92e3-8cea239b3239",
                    "action": "created",
                    "children": {
                        "parts": [
                            {
                                "index": 0,
                                "external_id": "SO-1005-10",
                                "id": "01a24ec9-486d-7efc-9bf0-5c8c76524b89",
                                "action": "created",
                                "children": {
                                    "operations": [
                                        {
                                            "index": 0,
                                            "external_id": "SO-1005-10-1",
                                            "id": "01a24ec9-4875-7bbb-a8a5-8f204813a243",
                                            "action": "created",
                                        }
                                    ]
                                },
                            }
                        ]
                    },
                }
            ],
            "children": {
                "parts": {"created": 1, "updated": 0, "skipped": 0, "failed": 0, "deleted": 0},
                "operations": {"created": 1, "updated": 0, "skipped": 0, "failed": 0, "deleted": 0},
            },
            "duration_ms": 33,
        },
    },
    "group_id": "01a24ec9-4885-77fc-94d5-a080fa7420f4",
    "dry_run": False,
    "committed": True,
}

ERP_STATUS_REPLY: Any = {
    "stats": {
        "total_syncs": 3,
        "successful": 2,
        "partial": 1,
        "failed": 0,
        "total_created": 3,
        "total_updated": 1,
        "total_skipped": 0,
        "total_deleted": 0,
        "total_errors": 1,
    },
    "history": [
        {
            "id": "01a24ec9-4886-7cf1-9082-fe8745d34c9f",
            "group_id": "01a24ec9-4885-77fc-94d5-a080fa7420f4",
            "entity_type": "jobs",
            "operation": "upsert",
            "trigger": "erp_sync",
            "source": "SAP",
            "status": "completed",
            "total_records": 1,
            "created_count": 1,
            "updated_count": 0,
            "skipped_count": 0,
            "deleted_count": 0,
            "error_count": 0,
            "errors": [],
            "options": {
                "dry_run": False,
                "atomic": False,
                "skip_unchanged": True,
                "snapshot": False,
                "replace_children": False,
                "record_history": True,
            },
            "api_key_id": "01a24ec9-0ee6-7fb7-9d30-148e34f0ca5a",
            "request_id": "b5e21c64-223b-42b0-8e6d-de5ec3b3b830",
            "started_at": "2026-12-07T04:35:43.836Z",
            "completed_at": "2026-12-07T04:35:43.877Z",
            "duration_ms": 33,
        }
    ],
    "pagination": {"total": 3, "offset": 0, "limit": 1},
}

JOB_LIFECYCLE_REPLY: Any = {
    "job": {
        "id": "01a24ec9-456a-7bcc-b7c3-a6dafd9d4fac",
        "job_number": "J-1001",
        "customer": "Acme BV",
        "due_date": "2026-12-31T00:00:00.000Z",
        "due_date_override": None,
        "status": "in_progress",
        "priority": 2,
        "notes": None,
        "current_cell_id": None,
        "delivery_address": None,
        "delivery_city": None,
        "delivery_postal_code": None,
        "delivery_country": None,
        "total_weight_kg": None,
        "total_volume_m3": None,
        "package_count": None,
        "started_at": "2026-12-07T04:35:44.019Z",
        "paused_at": None,
        "resumed_at": None,
        "completed_at": None,
        "actual_duration": None,
        "template_id": None,
        "external_id": None,
        "external_source": None,
        "synced_at": None,
        "sync_hash": None,
        "created_at": "2026-12-07T04:35:43.084Z",
        "updated_at": "2026-12-07T04:35:44.020Z",
        "deleted_at": None,
        "deleted_by": None,
        "parts": [
            {
                "id": "01a24ec9-456a-7acc-bdb8-93b0949a5418",
                "part_number": "P-10",
                "material": "S235JR",
                "quantity": 10,
                "status": "not_started",
                "external_id": None,
            }
        ],
        "metadata": {},
    },
    "operation": "start",
    "previous_status": "not_started",
    "new_status": "in_progress",
}

OPERATION_LIFECYCLE_REPLY: Any = {
    "operation": {
        "id": "01a24ec9-456a-7d25-a26a-2bca1317fbd6",
        "part_id": "01a24ec9-456a-7acc-bdb8-93b0949a5418",
        "cell_id": "01a24ec9-44bb-7694-84c8-1f2794ab654c",
        "operation_name": "Laser cutting",
        "sequence": 1,
        "status": "in_progress",
        "estimated_time": 45,
        "setup_time": 15,
        "run_time_per_unit": 0,
        "wait_time": 0,
        "changeover_time": 0,
        "actual_time": 0,
        "completion_percentage": 0,
        "assigned_operator_id": None,
        "planned_start": None,
        "planned_end": None,
        "icon_name": None,
        "notes": None,
        "started_at": "2026-12-07T04:35:44.114Z",
        "paused_at": None,
        "resumed_at": None,
        "completed_at": None,
        "external_id": None,
        "external_source": None,
        "synced_at": None,
        "sync_hash": None,
        "created_at": "2026-12-07T04:35:43.123Z",
        "updated_at": "2026-12-07T04:35:44.115Z",
        "deleted_at": None,
        "deleted_by": None,
        "cell": {"id": "01a24ec9-44bb-7694-84c8-1f2794ab654c", "name": "Laser", "color": None},
        "part": {
            "id": "01a24ec9-456a-7acc-bdb8-93b0949a5418",
            "part_number": "P-10",
            "material": "S235JR",
            "job": {
                "id": "01a24ec9-456a-7bcc-b7c3-a6dafd9d4fac",
                "job_number": "J-1001",
                "customer": "Acme BV",
            },
        },
        "resources": [],
        "metadata": {},
    },
    "operation_type": "start",
    "previous_status": "not_started",
    "new_status": "in_progress",
    "time_entry_created": True,
    "time_entry_ended": False,
    "time_entries_ended": 0,
    "time_entry": {
        "id": "01a24ec9-4998-701e-bc95-af943b36f0c2",
        "operation_id": "01a24ec9-456a-7d25-a26a-2bca1317fbd6",
        "operator_id": "B-17",
        "operator_name": "Ann de Vries",
        "time_type": "run",
        "start_time": "2026-12-07T04:35:44.152Z",
        "end_time": None,
        "is_paused": False,
        "paused_seconds": 0,
        "duration": None,
        "batch_id": None,
        "notes": None,
        "created_at": "2026-12-07T04:35:44.152Z",
        "updated_at": "2026-12-07T04:35:44.152Z",
    },
    "rolled_up": [
        {
            "entity_type": "part",
            "id": "01a24ec9-456a-7acc-bdb8-93b0949a5418",
            "previous_status": "not_started",
            "new_status": "in_progress",
        }
    ],
}

OPERATION_PAUSE_REPLY: Any = {
    "operation": {
        "id": "01a24ec9-456a-7d25-a26a-2bca1317fbd6",
        "part_id": "01a24ec9-456a-7acc-bdb8-93b0949a5418",
        "cell_id": "01a24ec9-44bb-7694-84c8-1f2794ab654c",
        "operation_name": "Laser cutting",
        "sequence": 1,
        "status": "on_hold",
        "estimated_time": 45,
        "setup_time": 15,
        "run_time_per_unit": 0,
        "wait_time": 0,
        "changeover_time": 0,
        "actual_time": 0,
        "completion_percentage": 0,
        "assigned_operator_id": None,
        "planned_start": None,
        "planned_end": None,
        "icon_name": None,
        "notes": None,
        "started_at": "2026-12-07T04:35:44.114Z",
        "paused_at": "2026-12-07T04:35:44.293Z",
        "resumed_at": None,
        "completed_at": None,
        "external_id": None,
        "external_source": None,
        "synced_at": None,
        "sync_hash": None,
        "created_at": "2026-12-07T04:35:43.123Z",
        "updated_at": "2026-12-07T04:35:44.293Z",
        "deleted_at": None,
        "deleted_by": None,
        "cell": {"id": "01a24ec9-44bb-7694-84c8-1f2794ab654c", "name": "Laser", "color": None},
        "part": {
            "id": "01a24ec9-456a-7acc-bdb8-93b0949a5418",
            "part_number": "P-10",
            "material": "S235JR",
            "job": {
                "id": "01a24ec9-456a-7bcc-b7c3-a6dafd9d4fac",
                "job_number": "J-1001",
                "customer": "Acme BV",
            },
        },
        "resources": [],
        "metadata": {},
    },
    "operation_type": "pause",
    "previous_status": "in_progress",
    "new_status": "on_hold",
    "time_entry_created": False,
    "time_entry_ended": True,
    "time_entries_ended": 1,
    "time_entry": None,
    "rolled_up": [],
}

BATCH_CREATE_REPLY: Any = {
    "batch": {
        "id": "01a24ec9-4ae1-7c8c-9e44-f5b62017d8dc",
        "batch_number": "B-2026-001",
        "batch_type": "general",
        "status": "draft",
        "cell_id": "01a24ec9-44bb-7694-84c8-1f2794ab654c",
        "production_mode": "manual",
        "material": None,
        "thickness_mm": None,
        "estimated_time": None,
        "actual_time": None,
        "operations_count": 1,
        "operations_assigned": 1,
        "parent_batch_id": None,
        "nesting_image_url": None,
        "layout_image_url": None,
        "notes": None,
        "created_by": None,
        "started_by": None,
        "completed_by": None,
        "started_at": None,
        "completed_at": None,
        "cancelled_at": None,
        "created_at": "2026-12-07T04:35:44.481Z",
        "updated_at": "2026-12-07T04:35:44.481Z",
        "cell": {"id": "01a24ec9-44bb-7694-84c8-1f2794ab654c", "name": "Laser", "color": None},
        "operations": [
            {
                "id": "01a24ec9-46fd-78f1-ac6a-c3583ef1c790",
                "operation_name": "Laser cutting",
                "sequence": 1,
                "status": "not_started",
                "part_id": "01a24ec9-46f6-7bd5-9698-aa11c4e8b6dc",
                "sequence_in_batch": 1,
            }
        ],
        "nesting_metadata": None,
    }
}

BATCH_START_REPLY: Any = {
    "batch": {
        "id": "01a24ec9-4ae1-7c8c-9e44-f5b62017d8dc",
        "batch_number": "B-2026-001",
        "batch_type": "general",
        "status": "in_progress",
        "cell_id": "01a24ec9-44bb-7694-84c8-1f2794ab654c",
        "production_mode": "manual",
        "material": None,
        "thickness_mm": None,
        "estimated_time": None,
        "actual_time": None,
        "operations_count": 1,
        "parent_batch_id": None,
        "nesting_image_url": None,
        "layout_image_url": None,
        "notes": None,
        "created_by": None,
        "started_by": "B-17",
        "completed_by": None,
        "started_at": "2026-12-07T04:35:44.586Z",
        "completed_at": None,
        "cancelled_at": None,
        "created_at": "2026-12-07T04:35:44.481Z",
        "updated_at": "2026-12-07T04:35:44.586Z",
        "cell": {"id": "01a24ec9-44bb-7694-84c8-1f2794ab654c", "name": "Laser", "color": None},
        "operations": [
            {
                "id": "01a24ec9-46fd-78f1-ac6a-c3583ef1c790",
                "operation_name": "Laser cutting",
                "sequence": 1,
                "status": "in_progress",
                "part_id": "01a24ec9-46f6-7bd5-9698-aa11c4e8b6dc",
                "sequence_in_batch": 1,
            }
        ],
        "nesting_metadata": None,
    },
    "previous_status": "draft",
    "new_status": "in_progress",
    "batch_id": "01a24ec9-4ae1-7c8c-9e44-f5b62017d8dc",
    "status": "in_progress",
    "operations_started": 1,
    "time_entries_created": 1,
    "started_at": "2026-12-07T04:35:44.586Z",
    "monitoring_source": "operator",
    "rolled_up": [
        {
            "entity_type": "part",
            "id": "01a24ec9-46f6-7bd5-9698-aa11c4e8b6dc",
            "previous_status": "not_started",
            "new_status": "in_progress",
        },
        {
            "entity_type": "job",
            "id": "01a24ec9-46e7-7235-8d5e-7bb82cb21061",
            "previous_status": "not_started",
            "new_status": "in_progress",
        },
    ],
}

BATCH_STOP_REPLY: Any = {
    "batch": {
        "id": "01a24ec9-4ae1-7c8c-9e44-f5b62017d8dc",
        "batch_number": "B-2026-001",
        "batch_type": "general",
        "status": "completed",
        "cell_id": "01a24ec9-44bb-7694-84c8-1f2794ab654c",
        "production_mode": "manual",
        "material": None,
        "thickness_mm": None,
        "estimated_time": None,
        "actual_time": 0,
        "operations_count": 1,
        "parent_batch_id": None,
        "nesting_image_url": None,
        "layout_image_url": None,
        "notes": None,
        "created_by": None,
        "started_by": "B-17",
        "completed_by": "B-17",
        "started_at": "2026-12-07T04:35:44.586Z",
        "completed_at": "2026-12-07T04:35:44.709Z",
        "cancelled_at": None,
        "created_at": "2026-12-07T04:35:44.481Z",
        "updated_at": "2026-12-07T04:35:44.710Z",
        "cell": {"id": "01a24ec9-44bb-7694-84c8-1f2794ab654c", "name": "Laser", "color": None},
        "operations": [
            {
                "id": "01a24ec9-46fd-78f1-ac6a-c3583ef1c790",
                "operation_name": "Laser cutting",
                "sequence": 1,
                "status": "completed",
                "part_id": "01a24ec9-46f6-7bd5-9698-aa11c4e8b6dc",
                "sequence_in_batch": 1,
            }
        ],
        "nesting_metadata": None,
    },
    "previous_status": "in_progress",
    "new_status": "completed",
    "batch_id": "01a24ec9-4ae1-7c8c-9e44-f5b62017d8dc",
    "status": "completed",
    "total_minutes": 0,
    "distribution_method": "weighted",
    "distribution": [{"id": "01a24ec9-46fd-78f1-ac6a-c3583ef1c790", "minutes": 0}],
    "operations_completed": 1,
    "time_entries_ended": 1,
    "completed_at": "2026-12-07T04:35:44.709Z",
    "monitoring_source": "operator",
    "rolled_up": [
        {
            "entity_type": "part",
            "id": "01a24ec9-46f6-7bd5-9698-aa11c4e8b6dc",
            "previous_status": "in_progress",
            "new_status": "completed",
        },
        {
            "entity_type": "job",
            "id": "01a24ec9-46e7-7235-8d5e-7bb82cb21061",
            "previous_status": "in_progress",
            "new_status": "completed",
        },
    ],
}

CHANGE_FEED_REPLY: Any = {
    "events": [
        {
            "id": "evt_01a24ec944d871179d52d5d10ff7af8d",
            "type": "cell.created",
            "event": "cell.created",
            "timestamp": "2026-12-07T04:35:42.969Z",
            "tenant_id": "01a24ec8-e928-72b5-88d9-5018b7cc4b8b",
            "sequence": 1,
            "cursor": "c2VxOjE",
            "data": {
                "cell": {
                    "id": "01a24ec9-44bb-7694-84c8-1f2794ab654c",
                    "name": "Laser",
                    "description": None,
                    "color": None,
                    "sequence": 0,
                    "active": True,
                    "wip_limit": None,
                    "wip_warning_threshold": None,
                    "enforce_wip_limit": False,
                    "show_capacity_warning": True,
                    "capacity_hours_per_day": 8,
                    "icon_name": None,
                    "image_url": None,
                    "external_id": "WC-LASER",
                    "external_source": "SAP",
                    "synced_at": None,
                    "sync_hash": None,
                    "created_at": "2026-12-07T04:35:42.933Z",
                    "updated_at": "2026-12-07T04:35:42.933Z",
                    "deleted_at": None,
                    "deleted_by": None,
                    "metadata": {},
                },
                "origin": {
                    "channel": "api",
                    "external_source": "SAP",
                    "api_key_id": "01a24ec9-0ee6-7fb7-9d30-148e34f0ca5a",
                    "request_id": "6e4521de-dcdb-44fa-8770-ae1bd7fba781",
                },
            },
        }
    ],
    "next_cursor": "c2VxOjE",
    "has_more": True,
}
