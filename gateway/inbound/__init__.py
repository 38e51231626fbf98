"""Reading what a client sent: which endpoint, the body within its size limit, and its fields."""
