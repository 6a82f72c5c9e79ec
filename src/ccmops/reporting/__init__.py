"""Program health, drift and staff capacity: the success factors measured per practice and responsible party."""
