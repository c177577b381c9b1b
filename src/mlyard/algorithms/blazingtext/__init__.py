"""BlazingText-compatible supervised text classification (fastText's model, our code).

``BlazingText`` is the :class:`mlyard.algorithms.base.Algorithm` (registry name
``blazingtext``); :func:`load_model` is the loader named in the saved model's manifest.
Training on CPU uses numba Hogwild SGD (:mod:`.hogwild`), on CUDA torch (:mod:`.torch_backend`);
neither is imported until a model is trained, and prediction needs only numpy.
"""

from mlyard.algorithms.blazingtext.algorithm import BlazingText
from mlyard.algorithms.blazingtext.model import BlazingTextModel, load_model
from mlyard.algorithms.blazingtext.text import tokenize

__all__ = ["BlazingText", "BlazingTextModel", "load_model", "tokenize"]
