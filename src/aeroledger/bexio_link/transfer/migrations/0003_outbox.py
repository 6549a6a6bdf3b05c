"""The invoice transfer's queue becomes the outbox of every bexio write.

TransferState (queue + what bexio has) splits into OutboxItem (the queue: one per write, kind
"invoice" keyed by the invoice's uuid) and InvoiceLink (what bexio has of the invoice);
TransferAttempt becomes OutboxAttempt, pointing at the item.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

QUEUE_FIELDS = (
    "status",
    "attempts",
    "next_try_at",
    "claimed_by",
    "claimed_until",
    "last_error",
    "last_error_status",
    "created_at",
    "done_at",
    "batch_id",
    "organisation_id",
)


def states_to_items(apps, schema_editor):
    TransferState = apps.get_model("bexio_transfer", "TransferState")
    TransferAttempt = apps.get_model("bexio_transfer", "TransferAttempt")
    OutboxItem = apps.get_model("bexio_transfer", "OutboxItem")
    for state in TransferState.objects.select_related("invoice").iterator():
        fields = {name: getattr(state, name) for name in QUEUE_FIELDS}
        item = OutboxItem.objects.create(
            kind="invoice",
            key=str(state.invoice.uuid),
            label=state.invoice.number,
            invoice_id=state.invoice_id,
            # A row still "sending" may have reached bexio: the next attempt looks it up first.
            maybe_in_bexio=state.status == "sending" or state.attempts > 1,
            bexio_id=state.bexio_id,
            bexio_ref=state.document_nr,
            **fields,
        )
        TransferAttempt.objects.filter(state_id=state.pk).update(item=item)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_credit_pays_at_approval"),
        ("members", "0001_initial"),
        ("tenancy", "0001_initial"),
        ("bexio_transfer", "0002_sync_full_check_interrupted"),
    ]

    operations = [
        migrations.CreateModel(
            name="OutboxItem",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("contact", "Contact"), ("invoice", "Invoice"), ("manual_entry", "Booking")],
                        max_length=20,
                    ),
                ),
                ("key", models.CharField(max_length=120)),
                ("label", models.CharField(blank=True, max_length=200)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting"),
                            ("sending", "Sending"),
                            ("done", "In bexio"),
                            ("failed", "Needs attention"),
                            ("cancelled", "Withdrawn"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("next_try_at", models.DateTimeField(blank=True, null=True)),
                ("claimed_by", models.CharField(blank=True, max_length=100)),
                ("claimed_until", models.DateTimeField(blank=True, null=True)),
                ("maybe_in_bexio", models.BooleanField(default=False)),
                ("last_error", models.TextField(blank=True)),
                ("last_error_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("bexio_id", models.BigIntegerField(blank=True, null=True)),
                ("bexio_ref", models.CharField(blank=True, max_length=100)),
                ("sent", models.JSONField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("done_at", models.DateTimeField(blank=True, null=True)),
                (
                    "batch",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="items",
                        to="bexio_transfer.transferbatch",
                    ),
                ),
                (
                    "credit_entry",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="bexio_outbox",
                        to="billing.creditentry",
                    ),
                ),
                (
                    "invoice",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="bexio_outbox",
                        to="billing.invoice",
                    ),
                ),
                (
                    "member",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="bexio_outbox",
                        to="members.member",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenancy.organisation",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["organisation", "status", "next_try_at"], name="outbox_org_due"),
                    models.Index(fields=["status", "next_try_at"], name="outbox_due"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organisation", "kind", "key"), name="one_outbox_item_per_write"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="transferattempt",
            name="item",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="log",
                to="bexio_transfer.outboxitem",
            ),
        ),
        migrations.RunPython(states_to_items, migrations.RunPython.noop),
        migrations.RemoveField(model_name="transferattempt", name="state"),
        migrations.AlterField(
            model_name="transferattempt",
            name="item",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="log",
                to="bexio_transfer.outboxitem",
            ),
        ),
        migrations.AlterField(
            model_name="transferattempt",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("created", "Created in bexio"),
                    ("adopted", "Found in bexio and adopted"),
                    ("retry", "Will retry"),
                    ("failed", "Needs attention"),
                    ("paused", "Paused (reconnect needed)"),
                    ("running", "Running"),
                    ("interrupted", "Interrupted (will resume)"),
                ],
                default="running",
                max_length=12,
            ),
        ),
        migrations.RenameModel("TransferAttempt", "OutboxAttempt"),
        migrations.RemoveIndex(model_name="transferstate", name="bexio_trans_organis_fc211d_idx"),
        *[
            migrations.RemoveField(model_name="transferstate", name=name)
            for name in (
                "status",
                "attempts",
                "next_try_at",
                "claimed_by",
                "claimed_until",
                "last_error",
                "last_error_status",
                "batch",
                "done_at",
            )
        ],
        migrations.RenameModel("TransferState", "InvoiceLink"),
        migrations.AlterField(
            model_name="invoicelink",
            name="invoice",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="bexio_invoice",
                to="billing.invoice",
            ),
        ),
        migrations.AlterField(
            model_name="invoicelink",
            name="bexio_status",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
    ]
