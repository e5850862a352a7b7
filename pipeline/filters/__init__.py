"""Filter stages. Every module here is imported by the registry, so a new file registers its stages."""
