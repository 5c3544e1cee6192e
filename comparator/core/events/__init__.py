"""Response events: the validated, typed form of one side's response to one request."""
