"""The clinical picture of a patient as the EHR records it: medications, allergies, observations (vital signs and
laboratory results) and immunizations, imported with the population (`ccmops.interop`)."""
