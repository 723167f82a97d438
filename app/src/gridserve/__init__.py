"""The platform web service: map tiles and point timeseries over gridded data."""
