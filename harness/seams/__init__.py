"""The seams where harness meets the outside world: HTTP transports, MCP streams, local tools."""
