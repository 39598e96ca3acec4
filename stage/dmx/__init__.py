"""Lights without a console: the patch, the mixer of looks and fades, and DMX out over sACN and Art-Net."""
