"""Live scrobbling: what the Plex server plays reaches Trakt and Simkl as it happens, counted once."""
