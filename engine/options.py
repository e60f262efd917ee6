"""Option names shared by the estimators, the pytest plugin and ``python -m reports`` (no torch here, so
the report tools import it without torch)."""

DEVICE_CHOICES = ("auto", "cpu", "cuda")
SAMPLERS = ("auto", "dense", "exact")  # suite-wide --sampler choices (estimators.ntk has the private ones)
