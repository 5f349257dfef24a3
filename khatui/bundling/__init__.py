"""`khatui bundle`: an air-gapped bundle built on a connected machine (binaries, packages, images)."""
