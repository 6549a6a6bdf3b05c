from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="low_balance_threshold",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("100.00"),
                help_text="Members whose credit balance is below this amount (CHF) are shown on the overview.",
                max_digits=12,
                verbose_name="low-balance threshold",
            ),
        ),
    ]
