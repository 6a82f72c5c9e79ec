"""Running an organization: its staff (adding, changing roles, removing — which stops their timers and hands
their patients on), its settings (identifiers, time zone, program settings, rule policies) and practitioners,
and the pages for them. A top domain layer: these use cases act on every layer below (time, patients, month
closes), which is why they are not part of `organizations`, whose records they change."""
