from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "ccmops.billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # imported here: an app's modules load only once the app registry is ready
        from ccmops.billing.month import refresh_reads, standings
        from ccmops.months.standings import provide

        provide(decide=standings, reads=refresh_reads)  # the ledger's standings are decided by billing's engine run
