"""dlcourse: helper package of the CNN / visualization / autoencoder / audio course kit.

Import the modules you need (``from dlcourse import training, plotting``); importing the
package itself is cheap and chooses no device.
"""
__version__ = "0.1.0"
__all__ = ["__version__"]
