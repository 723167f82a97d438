"""Small routers, each taking its shared objects by dependency injection."""
