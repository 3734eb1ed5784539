from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    verbose_name = "Channels and deliveries"

    def ready(self) -> None:
        from anymail.signals import tracking

        from .webhooks.anymail import record_tracking_event

        # ESP tracking events (delivered, bounced, complained ...) into the ledger.
        tracking.connect(record_tracking_event, dispatch_uid="herald.anymail.tracking")
