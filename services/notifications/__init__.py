"""Notifications (SPEC §10): the in-app inbox, the e-mail/SMS outbox and its worker, daily jobs
and password-reset links."""

from services.notifications.outbox import enterprise_recipients, notify, staff_recipients

__all__ = ["enterprise_recipients", "notify", "staff_recipients"]
