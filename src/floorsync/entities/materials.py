"""Materials (the material master): `api-materials`. Codes are unique among live materials."""

from floorsync.entities import fields as F
from floorsync.entities.fields import Kind
from floorsync.entities.spec import EntitySpec, ListOptions, UniqueRule
from floorsync.models.master import Material

MATERIALS: EntitySpec[Material] = EntitySpec(
    name="materials",
    singular="material",
    model=Material,
    fields=(
        F.ident("code", 100),
        F.ident("name", 200, required=True),
        F.long_text("description"),
        F.short("grade", 100, trim=True),
        F.number("thickness", 10, 3),
        F.short("unit", 16, trim=True),
        F.short("color", 16, trim=True),
        F.boolean("active", True),
        F.ident("external_id", 255, output=False),
        F.ident("external_source", 100, output=False),
        F.metadata_field(),
    ),
    unique=(UniqueRule(("code",)),),
    natural_key="code",
    listing=ListOptions(
        exact={
            "code": Kind.string,
            "grade": Kind.string,
            "unit": Kind.string,
            "active": Kind.boolean,
            "external_source": Kind.string,
            "external_id": Kind.string,
        },
        fuzzy=("name",),
        search=("code", "name", "description", "grade"),
        sortable=("code", "name", "grade", "thickness", "created_at", "updated_at"),
        default_sort=("name", "asc"),
    ),
)
