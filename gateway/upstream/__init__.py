"""Everything that talks to Azure: URLs, headers, credentials and the HTTP client."""
