"""Plans: ordered phases of per-node steps, each a list of actions or a no-op with its reason."""
