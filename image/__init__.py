"""The Kasir SD image: build recipe, first boot, boot files and release bundles."""
