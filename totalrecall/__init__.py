"""TotalRecall: one coherent watchlist, ratings, reviews and watch history across Trakt, Simkl, IMDb and Plex."""

__version__ = "0.1.0"
