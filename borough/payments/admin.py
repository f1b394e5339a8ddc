from django.contrib import admin

from borough.payments.models import Payment, Refund


class _ReadOnly(admin.ModelAdmin):
    """Payments change only through ``services.py``, so the admin can look but not touch."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(_ReadOnly):
    list_display = ("reference", "purpose_key", "amount_pence", "status", "code", "created_at")
    list_filter = ("status", "provider")
    search_fields = ("reference", "purpose_key", "provider_id")


@admin.register(Refund)
class RefundAdmin(_ReadOnly):
    list_display = ("payment", "amount_pence", "status", "reason", "created_at")
    list_filter = ("status",)
