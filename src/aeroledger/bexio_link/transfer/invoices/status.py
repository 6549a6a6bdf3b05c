"""bexio's invoice statuses in the club's words, and the local status each one means."""

from django.utils.translation import gettext_lazy as _

from aeroledger.billing.models import InvoiceStatus
from bexio.models import InvoiceStatus as BexioStatus

# bexio status -> the invoice's status here.
LOCAL_STATUS = {
    BexioStatus.DRAFT: InvoiceStatus.TRANSFERRED,  # (reverted to) a draft in bexio
    BexioStatus.OPEN: InvoiceStatus.OPEN,
    BexioStatus.UNPAID: InvoiceStatus.OPEN,  # overdue
    BexioStatus.PARTIALLY_PAID: InvoiceStatus.PARTIALLY_PAID,
    BexioStatus.PAID: InvoiceStatus.PAID,
    BexioStatus.CANCELLED: InvoiceStatus.CANCELLED,
}

LABELS = {
    BexioStatus.DRAFT: _("Draft"),
    BexioStatus.OPEN: _("Open"),
    BexioStatus.UNPAID: _("Overdue"),
    BexioStatus.PARTIALLY_PAID: _("Partially paid"),
    BexioStatus.PAID: _("Paid"),
    BexioStatus.CANCELLED: _("Cancelled"),
}


def bexio_status(status_id) -> BexioStatus | None:
    try:
        return BexioStatus(int(status_id)) if status_id is not None else None
    except ValueError:
        return None


def local_status(status_id) -> str | None:
    return LOCAL_STATUS.get(bexio_status(status_id))


def label(status_id) -> str:
    status = bexio_status(status_id)
    return str(LABELS.get(status, "")) if status is not None else ""


def is_cancelled(status_id) -> bool:
    return bexio_status(status_id) == BexioStatus.CANCELLED
