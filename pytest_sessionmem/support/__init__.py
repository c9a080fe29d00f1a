"""The bottom layer's helpers, which every other layer may use and which import nothing of
the package but each other and ``errors``: the one atomic file writer, the collector kept off
old objects during bulk work, JSON read and written fast (and a value's JSON type), the
shapes of secrets and personal data, redaction of secret values, and control characters
made visible before recorded text reaches a terminal."""
