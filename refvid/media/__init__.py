"""Media out: colour conversion, H.264/AAC encoding, cover images, probing."""
