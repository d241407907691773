"""HTTP routers (thin: parse, authenticate, call the service, return JSON or a stream)."""
