from django.db import migrations

ROLE_GROUPS = [
    "Parking officer",
    "Housing officer",
    "Finance officer",
    "Enforcement officer",
    "Data analyst",
    "Data protection officer",
    "Administrator",
]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
