"""Members sort by name the way a German phone book does (see members.models.name_sort_key).

Adds the stored key `sort_name`, fills it for existing members, gives it the C collation on
PostgreSQL (byte order, whatever the database's locale) and indexes it for the member lists.
"""

from django.db import migrations, models


def fill_sort_names(apps, schema_editor):
    from aeroledger.members.models import name_sort_key

    Member = apps.get_model("members", "Member")
    batch = []
    for member in Member.objects.using(schema_editor.connection.alias).order_by("pk").iterator(chunk_size=2000):
        member.sort_name = name_sort_key(
            kind=member.kind,
            first_name=member.first_name,
            last_name=member.last_name,
            company_name=member.company_name,
            number=member.number,
        )
        batch.append(member)
        if len(batch) >= 2000:
            Member.objects.bulk_update(batch, ["sort_name"])
            batch = []
    if batch:
        Member.objects.bulk_update(batch, ["sort_name"])


def c_collation_on_postgresql(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE members_member ALTER COLUMN sort_name TYPE varchar(255) COLLATE "C"')


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0001_initial"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="member",
            options={"ordering": ["sort_name", "id"], "verbose_name": "member", "verbose_name_plural": "members"},
        ),
        migrations.RemoveIndex(model_name="member", name="members_mem_organis_49dc7c_idx"),
        migrations.AddField(
            model_name="member",
            name="sort_name",
            field=models.CharField(blank=True, default="", editable=False, max_length=255),
        ),
        migrations.RunPython(c_collation_on_postgresql, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(fill_sort_names, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["organisation", "is_active", "sort_name"], name="member_active_by_name"),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["organisation", "sort_name"], name="member_by_name"),
        ),
    ]
