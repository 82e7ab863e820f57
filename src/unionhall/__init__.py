"""Union Hall: member data and field programs for unions and labor federations."""

__version__ = "0.1.0"
