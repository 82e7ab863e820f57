"""Election data: official state file layouts, districts and election calendars."""
