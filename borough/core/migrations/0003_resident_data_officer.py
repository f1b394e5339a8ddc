from django.db import migrations


def create_role(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name="Resident data officer")


class Migration(migrations.Migration):
    dependencies = [("core", "0002_staff_roles")]

    operations = [migrations.RunPython(create_role, migrations.RunPython.noop)]
