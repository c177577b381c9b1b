"""SageMaker PyTorch inference handler for the model `train.py` saves: JSON
`{"instances": ["text", ...]}` (or a JSON list, or one text per line of text/csv) in, one
`{"label": ..., "probabilities": {...}}` per text out."""

import json
import os

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def model_fn(model_dir):
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, local_files_only=True)
    model.eval()
    with open(os.path.join(model_dir, "labels.json")) as fh:
        labels = json.load(fh)
    return {"tokenizer": tokenizer, "model": model, "labels": labels}


def input_fn(request_body, request_content_type):
    if isinstance(request_body, bytes):
        request_body = request_body.decode("utf-8")
    if request_content_type.startswith("application/json"):
        data = json.loads(request_body)
        texts = data["instances"] if isinstance(data, dict) else data
    elif request_content_type.startswith(("text/csv", "text/plain")):
        texts = [line for line in request_body.splitlines() if line.strip()]
    else:
        raise ValueError(f"unsupported content type {request_content_type}")
    if isinstance(texts, str):
        texts = [texts]
    return [str(t) for t in texts]


def predict_fn(texts, bundle):
    enc = bundle["tokenizer"](texts, truncation=True, padding=True, max_length=128,
                              return_tensors="pt")
    with torch.no_grad():
        probs = torch.softmax(bundle["model"](**enc).logits, dim=-1)
    labels = bundle["labels"]
    return [{"label": labels[int(p.argmax())],
             "probabilities": {label: round(float(v), 6)
                               for label, v in zip(labels, p, strict=True)}}
            for p in probs]


def output_fn(predictions, accept):
    return json.dumps({"predictions": predictions}), "application/json"
