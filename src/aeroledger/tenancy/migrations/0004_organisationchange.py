import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0003_pending_import"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrganisationChange",
            fields=[
                (
                    "organisation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="tenancy.organisation",
                    ),
                ),
                ("at", models.DateTimeField()),
            ],
        ),
    ]
