"""Who may see and do what: a pure policy (`policy`, `operating_model`) and its one Django enforcement point
(`scope`)."""
