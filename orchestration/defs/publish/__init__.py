"""The published warehouse as an asset."""
