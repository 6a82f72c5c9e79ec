"""The patient-month ledger: below every domain app that records work, above organizations' and patients' data
only by reference. It owns what a month *is* for the program — its value type in the practice's time zone
(`Month`), its close state and the lock that time and notes take on it, the adjustments queued for a closed
month, and the stored standings — so that monthly work depends on the ledger and never on billing. Deciding a
standing needs the rules engine over facts gathered by billing: billing provides that as a service registered
at start-up (`standings.provide`)."""
