"""``bert``: fine-tune a BERT-family encoder (default MiniLM-L6) as a text classifier.

``Bert`` is the :class:`mlyard.algorithms.base.Algorithm` (registry name ``bert``);
:func:`load_model` is the loader named in the saved model's manifest. torch and transformers
are imported only when a model is trained or loaded.
"""

from mlyard.algorithms.bert.algorithm import Bert
from mlyard.algorithms.bert.model import BertClassifier, load_model

__all__ = ["Bert", "BertClassifier", "load_model"]
