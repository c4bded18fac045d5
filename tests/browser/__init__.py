"""Browser tests: the service in a real Chromium driven by Playwright."""
