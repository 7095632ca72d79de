"""Resources (equipment, tooling): `api-resources`."""

from floorsync.entities import fields as F
from floorsync.entities.fields import Kind
from floorsync.entities.spec import EntitySpec, ListOptions, UniqueRule
from floorsync.models.master import Resource

RESOURCES: EntitySpec[Resource] = EntitySpec(
    name="resources",
    singular="resource",
    model=Resource,
    fields=(
        F.ident("name", 200, required=True),
        F.ident("type", 64, required=True),
        F.long_text("description"),
        F.short("identifier", 100, trim=True),
        F.short("location", 200),
        F.short("status", 32, trim=True, default="available"),
        F.boolean("active", True),
        F.ident("external_id", 255, output=False),
        F.ident("external_source", 100, output=False),
        F.metadata_field(),
    ),
    unique=(UniqueRule(("name",)),),
    natural_key="name",
    listing=ListOptions(
        exact={
            "type": Kind.string,
            "status": Kind.string,
            "active": Kind.boolean,
            "external_source": Kind.string,
            "external_id": Kind.string,
        },
        fuzzy=("name", "location"),
        search=("name", "description", "identifier", "external_id"),
        sortable=("name", "type", "status", "created_at", "updated_at"),
        default_sort=("name", "asc"),
    ),
)
