"""Safety: recognising crisis language in what a person writes."""
