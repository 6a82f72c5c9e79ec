"""Who may see and do what, as a pure policy (`policy`, `operating_model`: no Django, no database). Its one
enforcement point on requests and records is `ccmops.patients.scope`."""
